/* test_mysql_dsn.c -- the go-sql-driver DSN parser (targets/mysql_dsn.c):
 * results and error texts as go-sql-driver/mysql's ParseDSN gives them. */
#include "unit.h"
#include "../../targets/mysql_dsn.h"

static struct mysql_dsn d;
static char err[512];

static int ok(const char *s)
{
    mysql_dsn_free(&d);
    err[0] = 0;
    int rc = mysql_dsn_parse(s, &d, err, sizeof err);
    if (rc)
        printf("  # '%s': %s\n", s, err);
    return rc == 0;
}

/* Refused with exactly this message (and never the password). */
static int bad(const char *s, const char *want)
{
    mysql_dsn_free(&d);
    err[0] = 0;
    int rc = mysql_dsn_parse(s, &d, err, sizeof err);
    if (rc != -1 || strcmp(err, want) || strstr(err, "Sekr1t")) {
        printf("  # '%s': rc %d, '%s', expected '%s'\n", s, rc, err, want);
        return 0;
    }
    return 1;
}

TEST(full_tcp)
{
    CHECK(ok("gw:pw@tcp(127.0.0.1:13306)/luagate"));
    CHECK_STR(d.user, "gw");
    CHECK_STR(d.passwd, "pw");
    CHECK_STR(d.net, "tcp");
    CHECK_STR(d.host, "127.0.0.1");
    CHECK_INT(d.port, 13306);
    CHECK_STR(d.addr, "127.0.0.1:13306");
    CHECK_STR(d.dbname, "luagate");
    CHECK(d.socket == NULL);
    CHECK_INT(d.tls, DSN_TLS_OFF);
    CHECK_INT(d.timeout_ms, 0);
}

TEST(defaults)
{
    CHECK(ok("gw@tcp(db.example)/x"));
    CHECK_STR(d.passwd, "");
    CHECK_STR(d.addr, "db.example:3306");
    CHECK_INT(d.port, 3306);
    CHECK(ok("/x"));
    CHECK_STR(d.user, "");
    CHECK_STR(d.net, "tcp");
    CHECK_STR(d.addr, "127.0.0.1:3306");
    CHECK_STR(d.dbname, "x");
    CHECK(ok("gw:pw@/x"));
    CHECK_STR(d.addr, "127.0.0.1:3306");
    CHECK(ok("gw:pw@tcp/x"));
    CHECK_STR(d.addr, "127.0.0.1:3306");
    CHECK(ok(""));
    CHECK_STR(d.addr, "127.0.0.1:3306");
    CHECK_STR(d.dbname, "");
    CHECK(ok("gw@tcp(h)/"));
    CHECK_STR(d.dbname, "");
}

TEST(credentials)
{
    CHECK(ok("gw:@tcp(h)/db"));
    CHECK_STR(d.user, "gw");
    CHECK_STR(d.passwd, "");
    CHECK(ok(":pw@tcp(h)/db"));
    CHECK_STR(d.user, "");
    CHECK_STR(d.passwd, "pw");
    CHECK(ok("@tcp(h)/db"));
    CHECK_STR(d.user, "");
    /* the last '@' ends the credentials, the first ':' splits them */
    CHECK(ok("gw:g@te:pw/1@tcp(127.0.0.1:13306)/luagate"));
    CHECK_STR(d.user, "gw");
    CHECK_STR(d.passwd, "g@te:pw/1");
    CHECK_STR(d.host, "127.0.0.1");
    CHECK(ok("a@b@c:d@tcp(h)/db"));
    CHECK_STR(d.user, "a@b@c");
    CHECK_STR(d.passwd, "d");
    CHECK(ok("gw:p(w)@tcp(h:1)/db"));
    CHECK_STR(d.passwd, "p(w)");
    CHECK_STR(d.addr, "h:1");
}

TEST(unix_socket)
{
    CHECK(ok("gw:pw@unix(/run/mysqld/mysqld.sock)/db?charset=utf8mb4,utf8"));
    CHECK_STR(d.net, "unix");
    CHECK_STR(d.socket, "/run/mysqld/mysqld.sock");
    CHECK(d.host == NULL);
    CHECK_STR(d.charset, "utf8mb4");
    CHECK(ok("gw@unix/db"));
    CHECK_STR(d.socket, "/tmp/mysql.sock");
}

TEST(ipv6)
{
    CHECK(ok("tcp([::1]:3307)/db"));
    CHECK_STR(d.host, "::1");
    CHECK_INT(d.port, 3307);
    CHECK(ok("tcp(::1)/db"));
    CHECK_STR(d.host, "::1");
    CHECK_STR(d.addr, "[::1]:3306");
    CHECK(ok("tcp([fe80::1])/db"));
    CHECK_STR(d.host, "fe80::1");
    CHECK_INT(d.port, 3306);
    CHECK(ok("tcp6([::1]:3306)/db"));
    CHECK_STR(d.net, "tcp");
}

TEST(tls)
{
    CHECK(ok("/db?tls=true"));
    CHECK_INT(d.tls, DSN_TLS_VERIFY);
    CHECK(ok("/db?tls=1"));
    CHECK_INT(d.tls, DSN_TLS_VERIFY);
    CHECK(ok("/db?tls=False"));
    CHECK_INT(d.tls, DSN_TLS_OFF);
    CHECK(ok("/db?tls=skip-verify"));
    CHECK_INT(d.tls, DSN_TLS_SKIP_VERIFY);
    CHECK(ok("/db?tls=Skip-Verify"));
    CHECK_INT(d.tls, DSN_TLS_SKIP_VERIFY);
    CHECK(ok("/db?tls=preferred"));
    CHECK_INT(d.tls, DSN_TLS_PREFERRED);
    CHECK(bad("/db?tls=custom", "invalid value / unknown config name: custom"));
    CHECK(bad("/db?tls=yes", "invalid value / unknown config name: yes"));
    CHECK(bad("/db?tls=%zz", "invalid value for TLS config name: invalid URL escape \"%zz\""));
}

TEST(durations)
{
    long long ms = -1;
    char e[128];
    CHECK(ok("/db?timeout=5s&readTimeout=1m30s&writeTimeout=250ms"));
    CHECK_INT(d.timeout_ms, 5000);
    CHECK_INT(d.read_timeout_ms, 90000);
    CHECK_INT(d.write_timeout_ms, 250);
    CHECK(ok("/db?timeout=1.5s"));
    CHECK_INT(d.timeout_ms, 1500);
    CHECK(ok("/db?timeout=0"));
    CHECK_INT(d.timeout_ms, 0);
    CHECK(bad("/db?timeout=5", "time: missing unit in duration \"5\""));
    CHECK(bad("/db?timeout=5x", "time: unknown unit \"x\" in duration \"5x\""));
    CHECK(bad("/db?timeout=abc", "time: invalid duration \"abc\""));
    CHECK(bad("/db?timeout=", "time: invalid duration \"\""));
    CHECK(bad("/db?readTimeout=.s", "time: invalid duration \".s\""));
    CHECK(bad("/db?timeTruncate=1q", "invalid timeTruncate value: 1q, error: time: unknown unit \"q\" in duration \"1q\""));
    CHECK_INT(go_duration_ms("1h2m3.5s", &ms, e, sizeof e), 0);
    CHECK_INT(ms, 3723500);
    CHECK_INT(go_duration_ms("1500us", &ms, e, sizeof e), 0);
    CHECK_INT(ms, 1);
    CHECK_INT(go_duration_ms("2\xc2\xb5s", &ms, e, sizeof e), 0);
    CHECK_INT(go_duration_ms("-3s", &ms, e, sizeof e), 0);
    CHECK_INT(ms, -3000);
    CHECK_INT(go_duration_ms("+.5m", &ms, e, sizeof e), 0);
    CHECK_INT(ms, 30000);
    CHECK_INT(go_duration_ms("-", &ms, e, sizeof e), -1);
    CHECK_INT(go_duration_ms("99999999999h", &ms, e, sizeof e), -1);
    CHECK_STR(e, "time: invalid duration \"99999999999h\"");
}

TEST(params)
{
    CHECK(ok("/db?parseTime=true&charset=latin1&collation=utf8mb4_bin&sql_mode=%27ANSI%27&foo=bar+baz"));
    CHECK_INT(d.parse_time, 1);
    CHECK_STR(d.charset, "latin1");
    CHECK_STR(d.collation, "utf8mb4_bin");
    CHECK_INT(d.nparams, 2);
    CHECK(ok("/db?abc&parseTime=1&&x=")); /* no '=': skipped, as go-sql-driver does */
    CHECK_INT(d.parse_time, 1);
    CHECK(ok("/db?loc=Europe%2FBerlin&maxAllowedPacket=0&allowNativePasswords=false"));
    CHECK_INT(d.max_allowed_packet, 0);
    CHECK(ok("/db?connectionAttributes=a%3Ab"));
    CHECK(bad("/db?parseTime=yes", "invalid bool value: yes"));
    CHECK(bad("/db?allowAllFiles=on", "invalid bool value: on"));
    CHECK(bad("/db?foo=%zz", "invalid URL escape \"%zz\""));
    CHECK(bad("/db?foo=50%", "invalid URL escape \"%\""));
    CHECK(bad("/db?maxAllowedPacket=abc", "strconv.Atoi: parsing \"abc\": invalid syntax"));
    CHECK(bad("/db?strict=true",
              "strict mode has been removed. See https://github.com/go-sql-driver/mysql/wiki/strict-mode"));
    CHECK(bad("/db?serverPubKey=k", "invalid value / unknown server pub key name: k"));
    CHECK(bad("/db?interpolateParams=true&collation=gbk_chinese_ci",
              "invalid DSN: interpolateParams can not be used with unsafe collations"));
}

TEST(dbname)
{
    CHECK(ok("gw:pw@tcp(h)/my%20db"));
    CHECK_STR(d.dbname, "my db");
    CHECK(ok("gw:pw@tcp(h)/a+b"));
    CHECK_STR(d.dbname, "a+b"); /* path unescaping: '+' stays */
    CHECK(bad("gw:Sekr1t@tcp(h)/d%zz", "invalid dbname \"d%zz\": invalid URL escape \"%zz\""));
}

TEST(malformed)
{
    CHECK(bad("gw:Sekr1t@tcp(127.0.0.1:3306)luagate",
              "invalid DSN: missing the slash separating the database name"));
    CHECK(bad("luagate", "invalid DSN: missing the slash separating the database name"));
    CHECK(bad("gw:Sekr1t@tcp(127.0.0.1:3306/luagate",
              "invalid DSN: network address not terminated (missing closing brace)"));
    CHECK(bad("gw:Sekr1t@tcp(h)x/db", "invalid DSN: did you forget to escape a param value?"));
    /* the last '/' is the one inside the unescaped value */
    CHECK(bad("gw:Sekr1t@tcp(h)/db?loc=Europe/Berlin",
              "invalid DSN: did you forget to escape a param value?"));
    CHECK(bad("gw:Sekr1t@foo/db", "default addr for network 'foo' unknown"));
    CHECK(bad("gw:Sekr1t@foo(bar)/db", "invalid DSN: network 'foo' is not supported (use tcp or unix)"));
    CHECK(bad("gw:Sekr1t@tcp(h:0)/db", "invalid DSN: invalid port '0' in address"));
    CHECK(bad("gw:Sekr1t@tcp(h:)/db", "invalid DSN: invalid port '' in address"));
    CHECK(bad("gw:Sekr1t@tcp(h:http)/db", "invalid DSN: invalid port 'http' in address"));
    CHECK(bad("gw:Sekr1t@tcp([::1/db", "invalid DSN: network address not terminated (missing closing brace)"));
    CHECK(bad("gw:Sekr1t@tcp([::1)/db", "invalid DSN: missing ']' in address"));
}

TEST(event_time)
{
    char out[40];
    CHECK_INT(mysql_event_time("2026-11-21T08:00:02.653Z", out, sizeof out), 0);
    CHECK_STR(out, "2026-11-21 08:00:02.653");
    CHECK_INT(mysql_event_time("2026-11-21T08:00:02.650Z", out, sizeof out), 0);
    CHECK_STR(out, "2026-11-21 08:00:02.65");
    CHECK_INT(mysql_event_time("2026-11-21T08:00:02.000Z", out, sizeof out), 0);
    CHECK_STR(out, "2026-11-21 08:00:02");
    CHECK_INT(mysql_event_time("2026-11-21T00:00:00.000Z", out, sizeof out), 0);
    CHECK_STR(out, "2026-11-21");
    CHECK_INT(mysql_event_time("2024-02-29T23:59:59.999Z", out, sizeof out), 0);
    CHECK_STR(out, "2024-02-29 23:59:59.999");
    CHECK_INT(mysql_event_time("2026-02-29T10:00:00.000Z", out, sizeof out), -1);
    CHECK_INT(mysql_event_time("2026-11-21T08:00:02Z", out, sizeof out), -1);
    CHECK_INT(mysql_event_time("2026-11-21T08:00:02.6530Z", out, sizeof out), -1);
    CHECK_INT(mysql_event_time("2026-11-21T24:00:00.000Z", out, sizeof out), -1);
    CHECK_INT(mysql_event_time("2026-11-21 08:00:02.653Z", out, sizeof out), -1);
    CHECK_INT(mysql_event_time("2026-11-21T08:00:02.653+01:00", out, sizeof out), -1);
    CHECK_INT(mysql_event_time("", out, sizeof out), -1);
    CHECK_INT(mysql_event_time(NULL, out, sizeof out), -1);
}

TEST(fallback)
{
    CHECK(ok("/db?tls=preferred"));
    CHECK_INT(d.allow_fallback, 1);
    CHECK(ok("/db?tls=true&allowFallbackToPlaintext=true"));
    CHECK_INT(d.allow_fallback, 1);
    CHECK(ok("/db?tls=skip-verify"));
    CHECK_INT(d.allow_fallback, 0);
}

int main(void)
{
    RUN(full_tcp);
    RUN(defaults);
    RUN(credentials);
    RUN(unix_socket);
    RUN(ipv6);
    RUN(tls);
    RUN(durations);
    RUN(params);
    RUN(dbname);
    RUN(malformed);
    RUN(event_time);
    RUN(fallback);
    mysql_dsn_free(&d);
    return unit_done();
}
