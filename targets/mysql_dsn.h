/* mysql_dsn.h -- go-sql-driver/mysql DSN strings, parsed as its ParseDSN does:
 *
 *   [user[:password]@][net[(addr)]]/dbname[?param1=value1&...&paramN=valueN]
 *
 * The last '/' ends the address part, the last '@' before it ends the
 * credentials, the first ':' splits user and password (so both '@' and ':'
 * may appear in a password).  Errors are go-sql-driver's own texts and never
 * contain the password.  Pure: no I/O. */
#ifndef LUAGATE_MYSQL_DSN_H
#define LUAGATE_MYSQL_DSN_H

#include <stddef.h>

enum dsn_tls { DSN_TLS_OFF = 0, DSN_TLS_VERIFY, DSN_TLS_SKIP_VERIFY, DSN_TLS_PREFERRED };

struct mysql_dsn {
    char *user, *passwd, *dbname;
    char *net;  /* "tcp" (also for tcp4/tcp6) or "unix" */
    char *addr; /* normalised: "host:port", "[v6]:port" or the socket path */
    char *host; /* tcp: host without brackets */
    unsigned port;
    char *socket; /* unix: path */
    enum dsn_tls tls;
    long long timeout_ms, read_timeout_ms, write_timeout_ms; /* 0 = not set */
    char *charset;   /* first charset of charset=a,b, or NULL */
    char *collation; /* or NULL */
    int parse_time;
    int interpolate_params;
    int allow_fallback; /* allowFallbackToPlaintext, set by tls=preferred too */
    long long max_allowed_packet; /* 0 = default */
    size_t nparams;               /* other params (server variables): accepted, ignored */
};

/* 0 and a filled dsn (free with mysql_dsn_free), or -1 with err. */
int mysql_dsn_parse(const char *s, struct mysql_dsn *d, char *err, size_t errlen);
void mysql_dsn_free(struct mysql_dsn *d);

/* Go's time.ParseDuration into milliseconds (rounded toward zero); -1 with
 * Go's error text.  Exposed for the tests. */
int go_duration_ms(const char *s, long long *ms, char *err, size_t errlen);

/* MinIO's eventTime "2006-01-02T15:04:05.000Z" (parsed as strictly as Go
 * does) to the text go-sql-driver sends for that time.Time in UTC, e.g.
 * "2006-01-02 15:04:05.123".  -1 when it is not such a time. */
int mysql_event_time(const char *in, char *out, size_t len);

#endif
