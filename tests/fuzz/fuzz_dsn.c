/* fuzz_dsn.c -- libFuzzer target for the go-sql-driver/mysql DSN parser
 * (targets/mysql_dsn.c): mysql_dsn_parse on arbitrary strings, plus the two
 * helpers it exposes, go_duration_ms and mysql_event_time.
 *
 *   bash tests/fuzz/run.sh 60 dsn
 *
 * The input is one DSN (cut at its first NUL, as a C string from the
 * config would be).  Invariants (a violation traps):
 *  - parse returns 0 or -1; -1 leaves an error text and nothing
 *    allocated (LeakSanitizer reports anything left behind);
 *  - on success net is "tcp" or "unix"; tcp has host/addr and a port,
 *    unix a socket path; strings are NUL-terminated (ASan sees overreads);
 *  - the password never appears in an error text (checked for passwords
 *    of at least 4 bytes that occur only once in the DSN);
 *  - mysql_event_time never writes past the length it is given. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../targets/mysql_dsn.h"

#define CHECK(c)                                                                     \
    do {                                                                             \
        if (!(c)) {                                                                  \
            fprintf(stderr, "fuzz_dsn: invariant failed at line %d: %s\n", __LINE__, \
                    #c);                                                             \
            __builtin_trap();                                                        \
        }                                                                            \
    } while (0)

/* The password as go-sql-driver would take it: between the first ':' and
 * the last '@' before the last '/'.  Only used to look for it in errors. */
static char *guess_password(const char *s)
{
    const char *slash = strrchr(s, '/');
    if (!slash)
        return NULL;
    const char *at = NULL;
    for (const char *p = s; p < slash; p++)
        if (*p == '@')
            at = p;
    if (!at)
        return NULL;
    const char *colon = memchr(s, ':', (size_t)(at - s));
    if (!colon || at - colon - 1 < 4)
        return NULL;
    return strndup(colon + 1, (size_t)(at - colon - 1));
}

static int occurrences(const char *s, const char *part)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, part)); p++)
        n++;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = 0;

    struct mysql_dsn d;
    memset(&d, 0, sizeof d);
    char err[512] = "";
    int rc = mysql_dsn_parse(s, &d, err, sizeof err);
    CHECK(rc == 0 || rc == -1);
    if (rc == 0) {
        CHECK(d.net && (!strcmp(d.net, "tcp") || !strcmp(d.net, "unix")));
        CHECK(d.user && d.passwd && d.dbname && d.addr);
        (void)strlen(d.user), (void)strlen(d.passwd), (void)strlen(d.dbname);
        (void)strlen(d.addr);
        if (!strcmp(d.net, "tcp")) {
            CHECK(d.host);
            (void)strlen(d.host);
            CHECK(d.port <= 65535);
        } else {
            CHECK(d.socket);
            (void)strlen(d.socket);
        }
        if (d.charset)
            (void)strlen(d.charset);
        if (d.collation)
            (void)strlen(d.collation);
        CHECK(d.timeout_ms >= 0 && d.read_timeout_ms >= 0 && d.write_timeout_ms >= 0);
        mysql_dsn_free(&d);
    } else {
        CHECK(*err);
        char *pw = guess_password(s);
        /* only a password that occurs once in the DSN can be told apart, and
         * not one with backslashes or quotes: quoting another part of the
         * DSN in the error adds those (escapes, the closing ') and can spell
         * it (false alarms in CI: "\\\\", and \377\377\377' after a network
         * of \377 bytes) */
        if (pw && occurrences(s, pw) == 1 && !strpbrk(pw, "\\\"'") && strstr(err, pw)) {
            fprintf(stderr, "fuzz_dsn: the password '%s' is in the error '%s'\n", pw, err);
            __builtin_trap();
        }
        free(pw);
    }

    long long ms;
    char derr[256];
    if (go_duration_ms(s, &ms, derr, sizeof derr))
        CHECK(*derr);

    /* a canary after the out buffer: the length given must be respected */
    char out[48];
    size_t len = size ? (size_t)data[0] % 40 + 1 : 40;
    memset(out, 0x5a, sizeof out);
    if (mysql_event_time(s, out, len) == 0)
        CHECK(memchr(out, 0, len) != NULL);
    for (size_t i = len; i < sizeof out; i++)
        CHECK(out[i] == 0x5a);
    free(s);
    return 0;
}
