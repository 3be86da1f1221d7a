/* itest.h -- what the driver tests (tests/integration/test_<kind>.c)
 * share: a target's settings, validated and opened with the reason
 * printed, messages filled from the sample events, and the checks of what
 * came back.  Header-only, like unit.h, since each test is one file linked
 * against the gateway's objects. */
#ifndef LUAGATE_ITEST_H
#define LUAGATE_ITEST_H

#include "driver.h"
#include "targetconf.h"
#include "unit.h"

/* Target kind:1 with the settings of kv: key, value, ..., NULL (a NULL
 * value leaves its key unset). */
static inline struct target_conf *itest_conf(const char *kind, const char *const *kv)
{
    struct target_conf *c = tconf_new(driver_kind(kind), "1");
    for (; c && kv && kv[0]; kv += 2)
        if (kv[1])
            tconf_set(c, kv[0], kv[1]);
    return c;
}
#define ITEST_CONF(kind, ...) itest_conf(kind, (const char *const[]){ __VA_ARGS__, NULL })

/* Validate c and open it with d, as the gateway does; NULL with the reason
 * printed. */
static inline void *itest_open(const struct driver *d, struct target_conf *c)
{
    char err[640] = "";
    if (!d || tconf_validate(c, err, sizeof err)) {
        printf("  # validate: %s\n", err);
        return NULL;
    }
    void *x = d->open(c, err, sizeof err);
    if (!x)
        printf("  # open: %s\n", err);
    return x;
}

/* m as the queue hands it over for sample s, with payload (the envelope,
 * the Records object or another shape). */
static inline void itest_fill(struct msg *m, const struct sample *s, const char *payload)
{
    memset(m, 0, sizeof *m);
    m->payload = payload;
    m->payload_len = strlen(payload);
    m->event_name = s->event_name;
    m->key = s->key;
    m->event_time = s->event_time;
}

static inline int itest_all_ok(const struct msg *m, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (m[i].status != MSG_OK) {
            printf("  # message %zu: status %d: %s\n", i, m[i].status, m[i].error);
            return 0;
        }
    return 1;
}

static inline int itest_has(const char *s, const char *sub)
{
    if (strstr(s, sub))
        return 1;
    printf("  # '%s' does not contain '%s'\n", s, sub);
    return 0;
}

/* c is refused at validation with an error naming a (and b unless NULL); frees c. */
static inline int itest_refused(struct target_conf *c, const char *a, const char *b)
{
    char err[640] = "";
    int rc = tconf_validate(c, err, sizeof err);
    tconf_free(c);
    if (!rc) {
        printf("  # accepted, expected an error about %s\n", a);
        return 0;
    }
    return itest_has(err, a) && (!b || itest_has(err, b));
}

#endif
