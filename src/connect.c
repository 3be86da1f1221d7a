/* connect.c -- `luagate check --connect`.
 *
 * Each target's driver is opened as the gateway would open it and asked
 * for a probe (driver.probe): connect and authenticate with the
 * configured credentials and look for the destination (exchange, table,
 * index, topic, stream, key) without sending a message.  A driver without
 * a probe is asked for its health(), which answers reachable and
 * authenticated together.  Everything printed passes through the
 * target's redaction: servers echo credentials in their errors. */
#include <stdio.h>
#include <string.h>
#include "connect.h"
#include "targetconf.h"

static const char *word(int v, const char *yes, const char *no)
{
    return v == PROBE_YES ? yes : v == PROBE_NO ? no : "-";
}

/* Fill r from health() for a driver without a probe. */
static int probe_by_health(const struct driver *d, void *ctx, struct probe_result *r)
{
    if (d->health(ctx, r->error, sizeof r->error) == 0) {
        r->reachable = r->authenticated = PROBE_YES;
        return 0;
    }
    r->reachable = PROBE_NO;
    return -1;
}

static int probe_target(const struct target_conf *tc, struct probe_result *r)
{
    const struct driver *d = tc->kind->drv;
    *r = (struct probe_result){ PROBE_NO, PROBE_UNCHECKED, PROBE_UNCHECKED, "", "" };
    void *ctx = d->open(tc, r->error, sizeof r->error);
    if (!ctx)
        return -1;
    int rc = d->probe ? d->probe(ctx, r) : probe_by_health(d, ctx, r);
    d->close(ctx);
    if (r->reachable != PROBE_YES || r->authenticated == PROBE_NO || r->destination == PROBE_NO)
        rc = -1;
    return rc;
}

static void print_result(const struct target_conf *tc, const struct probe_result *r, int rc)
{
    char error[sizeof r->error];
    snprintf(error, sizeof error, "%s", r->error);
    tconf_redact(tc, error, sizeof error);
    printf("  %-24s %-4s reachable %s, authenticated %s", tc->name, rc ? "FAIL" : "ok",
           word(r->reachable, "yes", "no"), word(r->authenticated, "yes", "no"));
    if (r->destination != PROBE_UNCHECKED)
        printf(", %s %s", r->dest,
               r->destination == PROBE_YES       ? "exists"
               : r->destination == PROBE_CREATED ? "absent (luagate creates it, as MinIO does)"
                                                 : "MISSING or unusable");
    if (*error)
        printf("\n      %s", error);
    putchar('\n');
}

int connect_check(const struct gw_config *cfg)
{
    int failed = 0;
    printf("connect: %zu target(s), sending nothing\n", cfg->ntargets);
    for (size_t i = 0; i < cfg->ntargets; i++) {
        const struct target_conf *tc = cfg->targets[i];
        struct probe_result r;
        int rc = probe_target(tc, &r);
        print_result(tc, &r, rc);
        failed |= rc != 0;
    }
    printf("connect: %s\n", failed ? "FAILED" : "every target answered");
    return failed ? 1 : 0;
}
