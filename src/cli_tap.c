/* cli_tap.c -- `luagate tap`: print a running gateway's routing decisions
 * as they happen (GET /tap on its admin listener, tap.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "admin_client.h"
#include "cli.h"

struct tap_out {
    long want, seen;  /* --count: stop after want event lines (0: never) */
    int first, error; /* the first line is {"error":..} when refused */
    int last;         /* the want-th event line is written up to its end */
};

/* Where to stop writing p[0..n) for --count: just past the newline that
 * ends the want-th event line (*done set), or n.  The server sends lines in
 * chunks of any size, so a chunk may hold more events than are wanted, and
 * the last wanted line may end in a later chunk. */
static size_t count_cut(struct tap_out *o, const char *p, size_t n, int *done)
{
    const char *end = p + n, *q = p;
    *done = 0;
    if (!o->last) {
        while ((q = memmem(q, (size_t)(end - q), "{\"time\":", 8)) && ++o->seen < o->want)
            q += 8;
        if (!q)
            return n;
        o->last = 1;
    }
    const char *nl = memchr(q, '\n', (size_t)(end - q));
    if (!nl)
        return n;
    *done = 1;
    return (size_t)(nl + 1 - p);
}

static int on_tap_data(const char *p, size_t n, void *arg)
{
    struct tap_out *o = arg;
    int done = 0;
    if (o->first) {
        o->first = 0;
        o->error = n >= 8 && !strncmp(p, "{\"error\"", 8);
    }
    if (o->want && !o->error)
        n = count_cut(o, p, n, &done);
    if (fwrite(p, 1, n, o->error ? stderr : stdout) != n)
        return -1; /* stdout closed (| head): stop */
    fflush(o->error ? stderr : stdout);
    return done;
}

/* value percent-encoded for a query string */
static void query_add(char *q, size_t len, const char *name, const char *value)
{
    size_t o = strlen(q);
    o += (size_t)snprintf(q + o, len > o ? len - o : 0, "%s%s=", o ? "&" : "?", name);
    for (const unsigned char *v = (const unsigned char *)value; *v && o + 4 < len; v++) {
        if ((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') || (*v >= '0' && *v <= '9') ||
            strchr("-_.~*:", *v))
            q[o++] = (char)*v;
        else
            o += (size_t)snprintf(q + o, len - o, "%%%02X", *v);
    }
    q[o] = 0;
}

static int tap_usage(void)
{
    fputs("usage: luagate tap [--admin HOST:PORT] [-c CONFIG] [--target NAME] [--bucket NAME]\n"
          "                   [--prefix KEYPREFIX] [--event NAME|PREFIX*] [--payloads] [--count N]\n"
          "                   [--cacert FILE] [--insecure]\n"
          "One JSON line per routed event; {\"dropped\":N} lines when this reader was too slow.\n",
          stderr);
    return 2;
}

int cli_tap(const char *config_path, int argc, char **argv)
{
    const char *admin = NULL, *cacert = NULL;
    char query[4096] = "";
    struct tap_out o = { .first = 1 };
    int insecure = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--payloads")) {
            query_add(query, sizeof query, "payloads", "1");
            continue;
        }
        if (!strcmp(a, "--insecure")) {
            insecure = 1;
            continue;
        }
        if (!v)
            return tap_usage();
        i++;
        if (!strcmp(a, "--admin"))
            admin = v;
        else if (!strcmp(a, "--cacert"))
            cacert = v;
        else if (!strcmp(a, "--count")) {
            char *end;
            o.want = strtol(v, &end, 10);
            if (*end || o.want <= 0) { /* atol's 0 would have meant "for ever" */
                fprintf(stderr, "luagate tap: --count must be a positive integer, not '%s'\n", v);
                return 2;
            }
        }
        else if (!strcmp(a, "--target") || !strcmp(a, "--bucket") || !strcmp(a, "--prefix") ||
                 !strcmp(a, "--event"))
            query_add(query, sizeof query, a + 2, v);
        else
            return tap_usage();
    }
    struct admin_client ac;
    char err[1400], path[4200];
    if (admin_client_init(&ac, admin, config_path, err, sizeof err)) {
        fprintf(stderr, "luagate tap: %s\n", err);
        return 2;
    }
    if (cacert)
        snprintf(ac.cacert, sizeof ac.cacert, "%s", cacert);
    ac.insecure = insecure;
    snprintf(path, sizeof path, "/tap%s", query);
    int code = admin_client_get(&ac, path, 0, on_tap_data, &o, err, sizeof err);
    if (code < 0) {
        fprintf(stderr, "luagate tap: %s\n", err);
        return 1;
    }
    if (code != 200) {
        fprintf(stderr, "luagate tap: %s%s answered %d\n", ac.base, path, code);
        return 1;
    }
    return 0;
}
