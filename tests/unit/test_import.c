/* test_import.c -- `luagate import`: MinIO's `mc admin config get` lines in,
 * a luagate configuration out, read back with config_load as the gateway
 * would, and MinIO's KV tokeniser quirks reproduced. */
#include <fcntl.h>
#include <unistd.h>
#include "config.h"
#include "import.h"
#include "unit.h"

extern char **environ;

static char tmpdir[] = "/tmp/luagate-import.XXXXXX";

/* Remove every MINIO_NOTIFY_* / LUAGATE_* variable: config_load reads them. */
static void clean_env(void)
{
    for (int again = 1; again;) {
        again = 0;
        for (char **e = environ; *e; e++)
            if (!strncmp(*e, "MINIO_NOTIFY_", 13) || !strncmp(*e, "LUAGATE_", 8)) {
                char name[256];
                snprintf(name, sizeof name, "%.*s", (int)strcspn(*e, "="), *e);
                unsetenv(name);
                again = 1;
                break;
            }
    }
}

/* Import text; the output in *conf (malloc'd), its path in path. */
static int import(const char *text, char **conf, char *path, size_t plen)
{
    static int seq;
    snprintf(path, plen, "%s/conf%d.lua", tmpdir, ++seq);
    FILE *f = fopen(path, "w");
    char err[512] = "";
    int rc = import_text(text, strlen(text), f, err, sizeof err);
    fclose(f);
    if (rc < 0)
        printf("  # import_text: %s\n", err);
    f = fopen(path, "r");
    size_t cap = 1 << 16, n = fread(*conf = calloc(1, cap), 1, cap - 1, f);
    (*conf)[n] = 0;
    fclose(f);
    return rc;
}

static const struct target_conf *find(const struct gw_config *c, const char *name)
{
    for (size_t i = 0; i < c->ntargets; i++)
        if (!strcmp(c->targets[i]->name, name))
            return c->targets[i];
    printf("  # no target %s\n", name);
    return NULL;
}

#define RAW(t, k) ((t) ? tconf_raw((t), (k)) : NULL)
#define STR(t, k) ((t) ? tconf_str((t), (k)) : NULL)

/* Every key MinIO has for each of the ten kinds, as mc prints them. */
static const char all_kinds[] =
    "notify_webhook:1 endpoint=\"http://127.0.0.1:8080/minio/events\" auth_token=\"s3cr3t-token\" "
    "queue_limit=\"0\" queue_dir=\"\" client_cert=\"\" client_key=\"\"\n"
    "notify_amqp:1 url=\"amqp://guest:guest@localhost:5672\" exchange=\"bucketevents\" "
    "exchange_type=\"fanout\" routing_key=\"bucketlogs\" mandatory=\"off\" durable=\"on\" "
    "no_wait=\"off\" internal=\"off\" auto_deleted=\"off\" delivery_mode=\"2\" "
    "publisher_confirms=\"on\" queue_limit=\"0\" queue_dir=\"\" comment=\"\"\n"
    "notify_kafka:1 brokers=\"127.0.0.1:9092,127.0.0.1:9093\" topic=\"bucketevents\" sasl=\"on\" "
    "sasl_username=\"minio\" sasl_password=\"kafka-pw\" sasl_mechanism=\"sha512\" tls=\"off\" "
    "tls_skip_verify=\"off\" tls_client_auth=\"0\" client_tls_cert=\"\" client_tls_key=\"\" "
    "version=\"2.8.0\" batch_size=\"0\" batch_commit_timeout=\"0s\" compression_codec=\"snappy\" "
    "compression_level=\"\" queue_dir=\"\" queue_limit=\"0\"\n"
    "notify_mqtt:1 broker=\"tcp://127.0.0.1:1883\" topic=\"minio\" password=\"mqtt-pw\" "
    "username=\"minio\" qos=\"1\" keep_alive_interval=\"0s\" reconnect_interval=\"0s\" "
    "queue_dir=\"\" queue_limit=\"0\"\n"
    "notify_nats:1 address=\"127.0.0.1:4222\" subject=\"bucketevents\" username=\"\" password=\"\" "
    "token=\"nats-token\" tls=\"off\" tls_skip_verify=\"off\" cert_authority=\"\" client_cert=\"\" "
    "client_key=\"\" ping_interval=\"0\" jetstream=\"on\" streaming=\"off\" streaming_async=\"off\" "
    "streaming_max_pub_acks_in_flight=\"0\" streaming_cluster_id=\"\" queue_dir=\"\" queue_limit=\"0\"\n"
    "notify_nsq:1 nsqd_address=\"127.0.0.1:4150\" topic=\"minio\" tls=\"off\" tls_skip_verify=\"off\" "
    "queue_dir=\"\" queue_limit=\"0\"\n"
    "notify_mysql:1 format=\"namespace\" dsn_string=\"minio:my-pw@tcp(127.0.0.1:3306)/miniodb\" "
    "table=\"minio_images\" queue_dir=\"\" queue_limit=\"0\" max_open_connections=\"2\"\n"
    "notify_postgres:1 format=\"access\" connection_string=\"host=127.0.0.1 port=5432 dbname=minio "
    "user=minio password=pg-pw sslmode=disable\" table=\"bucketevents\" queue_dir=\"\" "
    "queue_limit=\"5000\" max_open_connections=\"4\"\n"
    "notify_redis:1 format=\"namespace\" address=\"127.0.0.1:6379\" key=\"bucketevents\" "
    "password=\"redis-pw\" user=\"\" queue_dir=\"\" queue_limit=\"0\"\n"
    "notify_elasticsearch:1 url=\"http://127.0.0.1:9200\" index=\"minio_events\" format=\"access\" "
    "username=\"elastic\" password=\"es-pw\" queue_dir=\"\" queue_limit=\"0\"\n";

TEST(all_ten_kinds_load_back)
{
    char *conf, path[256], err[1024];
    CHECK_INT(import(all_kinds, &conf, path, sizeof path), 0);
    CHECK(strstr(conf, "chmod 600") != NULL);
    CHECK(strstr(conf, "[\"kafka:1\"] = {") != NULL);
    CHECK(strstr(conf, "-- empty or default, left out:") != NULL);
    CHECK(!strstr(conf, "WARNING"));
    struct gw_config c;
    if (config_load(&c, path, err, sizeof err)) {
        printf("  # config_load: %s\n%s", err, conf);
        CHECK(0);
        free(conf);
        return;
    }
    CHECK_INT(c.ntargets, 10);
    const struct target_conf *t = find(&c, "webhook:1");
    CHECK_STR(STR(t, "endpoint"), "http://127.0.0.1:8080/minio/events");
    CHECK_STR(STR(t, "auth_token"), "s3cr3t-token");
    CHECK(RAW(t, "queue_limit") == NULL && RAW(t, "client_cert") == NULL);

    t = find(&c, "amqp:1");
    CHECK_STR(STR(t, "url"), "amqp://guest:guest@localhost:5672");
    CHECK_STR(STR(t, "exchange"), "bucketevents");
    CHECK_STR(STR(t, "exchange_type"), "fanout");
    CHECK_STR(STR(t, "routing_key"), "bucketlogs");
    CHECK_STR(RAW(t, "durable"), "on");
    CHECK_STR(RAW(t, "publisher_confirms"), "on");
    CHECK_STR(RAW(t, "delivery_mode"), "2");
    CHECK(RAW(t, "mandatory") == NULL && RAW(t, "no_wait") == NULL && RAW(t, "comment") == NULL);
    CHECK(strstr(conf, "durable = true,") && strstr(conf, "delivery_mode = 2,"));

    t = find(&c, "kafka:1");
    CHECK_STR(STR(t, "brokers"), "127.0.0.1:9092,127.0.0.1:9093");
    CHECK_STR(STR(t, "topic"), "bucketevents");
    CHECK(t && tconf_bool(t, "sasl"));
    CHECK_STR(STR(t, "sasl_username"), "minio");
    CHECK_STR(STR(t, "sasl_password"), "kafka-pw");
    CHECK_STR(STR(t, "sasl_mechanism"), "sha512");
    CHECK_STR(STR(t, "version"), "2.8.0");
    CHECK_STR(STR(t, "compression_codec"), "snappy");
    CHECK(RAW(t, "tls") == NULL && RAW(t, "batch_commit_timeout") == NULL &&
          RAW(t, "tls_client_auth") == NULL && RAW(t, "queue_limit") == NULL);
    CHECK(t && tconf_int(t, "queue_limit") == 100000);

    t = find(&c, "mqtt:1");
    CHECK_STR(STR(t, "broker"), "tcp://127.0.0.1:1883");
    CHECK_STR(STR(t, "topic"), "minio");
    CHECK_STR(STR(t, "username"), "minio");
    CHECK_STR(STR(t, "password"), "mqtt-pw");
    CHECK_STR(RAW(t, "qos"), "1");
    CHECK(RAW(t, "keep_alive_interval") == NULL && RAW(t, "reconnect_interval") == NULL);

    t = find(&c, "nats:1");
    CHECK_STR(STR(t, "address"), "127.0.0.1:4222");
    CHECK_STR(STR(t, "subject"), "bucketevents");
    CHECK_STR(STR(t, "token"), "nats-token");
    CHECK_STR(RAW(t, "jetstream"), "on");
    CHECK(RAW(t, "streaming") == NULL && RAW(t, "ping_interval") == NULL);

    t = find(&c, "nsq:1");
    CHECK_STR(STR(t, "nsqd_address"), "127.0.0.1:4150");
    CHECK_STR(STR(t, "topic"), "minio");

    t = find(&c, "mysql:1");
    CHECK_STR(STR(t, "dsn_string"), "minio:my-pw@tcp(127.0.0.1:3306)/miniodb");
    CHECK_STR(STR(t, "table"), "minio_images");
    CHECK(RAW(t, "format") == NULL && RAW(t, "max_open_connections") == NULL);

    t = find(&c, "postgres:1");
    CHECK_STR(STR(t, "connection_string"),
              "host=127.0.0.1 port=5432 dbname=minio user=minio password=pg-pw sslmode=disable");
    CHECK_STR(STR(t, "table"), "bucketevents");
    CHECK_STR(STR(t, "format"), "access");
    CHECK_STR(RAW(t, "queue_limit"), "5000");
    CHECK_STR(RAW(t, "max_open_connections"), "4");

    t = find(&c, "redis:1");
    CHECK_STR(STR(t, "address"), "127.0.0.1:6379");
    CHECK_STR(STR(t, "key"), "bucketevents");
    CHECK_STR(STR(t, "password"), "redis-pw");
    CHECK(RAW(t, "user") == NULL && RAW(t, "format") == NULL);

    t = find(&c, "elasticsearch:1");
    CHECK_STR(STR(t, "url"), "http://127.0.0.1:9200");
    CHECK_STR(STR(t, "index"), "minio_events");
    CHECK_STR(STR(t, "format"), "access");
    CHECK_STR(STR(t, "username"), "elastic");
    CHECK_STR(STR(t, "password"), "es-pw");
    config_free(&c);
    free(conf);
}

/* Load conf text back; the one target named must exist. */
static const struct target_conf *load1(struct gw_config *c, const char *path, const char *name)
{
    char err[1024];
    if (config_load(c, path, err, sizeof err)) {
        printf("  # config_load: %s\n", err);
        memset(c, 0, sizeof *c);
        return NULL;
    }
    return find(c, name);
}

TEST(default_target_comments_and_kinds)
{
    char *conf, path[256];
    const char *in = "# notification settings of myminio\n"
                     "\n"
                     "notify_webhook endpoint=\"http://hooks.example:8080/\" auth_token=\"\"\n"
                     "   # MINIO_NOTIFY_WEBHOOK_QUEUE_DIR=/data/events\n"
                     "notify_postgres:PRIMARY connection_string=\"host=db user=minio\" table=\"events\" "
                     "enable=\"off\"\r\n"
                     "notify_kafka \n"
                     "api requests_max=\"0\"\n";
    CHECK_INT(import(in, &conf, path, sizeof path), 0);
    CHECK(strstr(conf, "[\"webhook:_\"] = {") != NULL);
    CHECK(strstr(conf, "[\"postgres:PRIMARY\"] = {\n    enable = false,\n") != NULL);
    CHECK(strstr(conf, "-- notify_kafka: no settings") != NULL);
    CHECK(!strstr(conf, "[\"kafka:_\"]"));
    CHECK(strstr(conf, "MINIO_NOTIFY_WEBHOOK_QUEUE_DIR: not copied") != NULL);
    CHECK(!strstr(conf, "/data/events"));
    CHECK(strstr(conf, "sub-system 'api' is not a notification target") != NULL);
    struct gw_config c;
    const struct target_conf *t = load1(&c, path, "webhook:_");
    CHECK_STR(STR(t, "endpoint"), "http://hooks.example:8080/");
    CHECK_INT(c.ntargets, 1); /* postgres:PRIMARY is off: dropped, as the gateway does */
    config_free(&c);
    free(conf);
}

/* Unknown text sticks to the value before it: MinIO cuts only at keys it knows. */
TEST(unknown_key_sticks_to_previous_value)
{
    char *conf, path[256];
    const char *in = "notify_webhook:1 endpoint=\"http://127.0.0.1:9000/x\" foo=\"bar\" "
                     "auth_token=\"tok\"\n";
    CHECK_INT(import(in, &conf, path, sizeof path), 1);
    CHECK(strstr(conf, "-- WARNING: webhook:1: the value of 'endpoint' holds \"foo=\"") != NULL);
    struct gw_config c;
    const struct target_conf *t = load1(&c, path, "webhook:1");
    /* TrimPrefix and TrimSuffix '"' are independent: the inner quotes stay */
    CHECK_STR(STR(t, "endpoint"), "http://127.0.0.1:9000/x\" foo=\"bar");
    CHECK_STR(STR(t, "auth_token"), "tok");
    config_free(&c);
    free(conf);
}

/* Only the first "key=" counts: a repeated key and a key name inside an
 * earlier value both cut where MinIO cuts. */
TEST(first_occurrence_only)
{
    char *conf, path[256];
    const char *in = "notify_nsq:1 nsqd_address=\"127.0.0.1:4150\" topic=\"t\" comment=\"a\" comment=\"b\"\n"
                     "notify_redis:1 address=\"127.0.0.1:6379\" password=\"pkey=x\" key=\"events\"\n";
    import(in, &conf, path, sizeof path);
    struct gw_config c;
    const struct target_conf *t = load1(&c, path, "nsq:1");
    CHECK_STR(STR(t, "comment"), "a\" comment=\"b");
    t = find(&c, "redis:1");
    CHECK_STR(STR(t, "password"), "p");              /* cut at the "key=" inside it */
    CHECK_STR(STR(t, "key"), "x\" key=\"events");    /* the real key= is not looked at */
    config_free(&c);
    free(conf);
}

TEST(quotes_and_blanks)
{
    char *conf, path[256];
    const char *in = "notify_nats:q address='127.0.0.1:4222'   subject=\"'both'\" "
                     "token=\"half   username=plain password=  \"spaced\"  \n";
    import(in, &conf, path, sizeof path);
    struct gw_config c;
    const struct target_conf *t = load1(&c, path, "nats:q");
    CHECK_STR(STR(t, "address"), "127.0.0.1:4222");
    CHECK_STR(STR(t, "subject"), "both");  /* one '"' pair, then one '\'' pair */
    CHECK_STR(STR(t, "token"), "half");    /* a lone leading quote goes too */
    CHECK_STR(STR(t, "username"), "plain");
    CHECK_STR(STR(t, "password"), "spaced");
    config_free(&c);
    free(conf);
}

/* luagate's own keys are not MinIO's: "timeout=" in a URL stays in the URL. */
TEST(luagate_only_keys_not_tokenised)
{
    char *conf, path[256];
    const char *in = "notify_webhook:1 endpoint=\"http://h:1/hook?timeout=5s&prefix=a\" auth_token=\"\"\n";
    CHECK_INT(import(in, &conf, path, sizeof path), 0);
    struct gw_config c;
    const struct target_conf *t = load1(&c, path, "webhook:1");
    CHECK_STR(STR(t, "endpoint"), "http://h:1/hook?timeout=5s&prefix=a");
    CHECK(RAW(t, "timeout") == NULL && RAW(t, "prefix") == NULL);
    config_free(&c);
    free(conf);
}

/* MinIO takes only "on" as true for every boolean but enable. */
TEST(booleans_as_minio_reads_them)
{
    char *conf, path[256];
    const char *in = "notify_amqp:1 url=\"amqp://u:p@h:5672\" exchange=\"x\" durable=\"true\" "
                     "mandatory=\"on\" enable=\"true\"\n"
                     "notify_amqp:2 url=\"amqp://u:p@h:5672\" exchange=\"y\" enable=\"disabled\"\n";
    CHECK_INT(import(in, &conf, path, sizeof path), 1);
    CHECK(strstr(conf, "durable=\"true\": MinIO takes only \"on\" as true") != NULL);
    struct gw_config c;
    const struct target_conf *t = load1(&c, path, "amqp:1");
    CHECK(RAW(t, "durable") == NULL);
    CHECK_STR(RAW(t, "mandatory"), "on");
    CHECK_INT(c.ntargets, 1);
    CHECK(strstr(conf, "[\"amqp:2\"] = {\n    enable = false,") != NULL);
    config_free(&c);
    free(conf);
}

/* Lua escaping round-trips through config_load. */
TEST(lua_escaping)
{
    char *conf, path[256];
    const char *in = "notify_redis:1 address=\"127.0.0.1:6379\" key=\"k\" "
                     "password=\"a\\b\"c\tüé]]--\" comment=\"say \\\"hi\\\"\"\n";
    import(in, &conf, path, sizeof path);
    CHECK(strstr(conf, "password = \"a\\\\b\\\"c\\tüé]]--\",") != NULL);
    struct gw_config c;
    const struct target_conf *t = load1(&c, path, "redis:1");
    CHECK_STR(STR(t, "password"), "a\\b\"c\tüé]]--");
    CHECK_STR(STR(t, "comment"), "say \\\"hi\\\"");
    config_free(&c);
    free(conf);
}

/* What the gateway would refuse becomes a warning, not a failure; secrets
 * mc left out become placeholders. */
TEST(validation_warnings)
{
    char *conf, path[256];
    const char *in = "notify_nats:1 address=\"nohost\" subject=\"s\"\n"
                     "notify_kafka:bad.id brokers=\"127.0.0.1:9092\" sasl=\"on\" sasl_username=\"u\"\n"
                     "notify_amqp:1 exchange=\"x\" queue_dir=\"/var/lib/minio/events\" "
                     "queue_limit=\"100000\"\n"
                     "notify_smtp:1 host=x\n";
    int w = import(in, &conf, path, sizeof path);
    CHECK(w >= 4);
    CHECK(strstr(conf, "-- WARNING: nats:1: key 'address' must be host:port, not 'nohost'") != NULL);
    CHECK(strstr(conf, "-- WARNING: kafka:bad.id: luagate target ids are") != NULL);
    CHECK(strstr(conf, "-- sasl_password = \"...\",  -- secret not in the input") != NULL);
    CHECK(strstr(conf, "-- WARNING: amqp:1: key 'url' is required") != NULL);
    CHECK(strstr(conf, "queue_dir = \"/var/lib/minio/events\",") != NULL);
    CHECK(strstr(conf, "-- queue_dir is where MinIO queued") != NULL);
    CHECK(!strstr(conf, "queue_limit = "));
    CHECK(strstr(conf, "notify_smtp is not a notification kind MinIO has") != NULL);
    free(conf);

    char err[256];
    FILE *f = tmpfile();
    CHECK_INT(import_text("api requests_max=0\n# nothing\n", 27, f, err, sizeof err), -1);
    CHECK(strstr(err, "no notify_* line") != NULL);
    fclose(f);
}

/* cli_import reads a file and writes to stdout; usage errors are 2. */
TEST(cli_import_file)
{
    char in[256], outp[256];
    snprintf(in, sizeof in, "%s/mc.txt", tmpdir);
    snprintf(outp, sizeof outp, "%s/out.lua", tmpdir);
    FILE *f = fopen(in, "w");
    fputs("notify_nsq:1 nsqd_address=\"127.0.0.1:4150\" topic=\"t\"\n", f);
    fclose(f);
    fflush(stdout);
    int saved = dup(1), fd = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 1);
    close(fd);
    char *args[] = { in, NULL };
    int rc = cli_import(1, args);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    CHECK_INT(rc, 0);
    struct gw_config c;
    const struct target_conf *t = load1(&c, outp, "nsq:1");
    CHECK_STR(STR(t, "topic"), "t");
    config_free(&c);
    char missing[] = "/nonexistent/mc.txt", *a2[] = { missing, NULL };
    CHECK_INT(cli_import(1, a2), 1);
    char *a3[] = { in, in, NULL };
    CHECK_INT(cli_import(2, a3), 2);
}

int main(void)
{
    clean_env();
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(all_ten_kinds_load_back);
    RUN(default_target_comments_and_kinds);
    RUN(unknown_key_sticks_to_previous_value);
    RUN(first_occurrence_only);
    RUN(quotes_and_blanks);
    RUN(luagate_only_keys_not_tokenised);
    RUN(booleans_as_minio_reads_them);
    RUN(lua_escaping);
    RUN(validation_warnings);
    RUN(cli_import_file);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd))
        printf("  # could not remove %s\n", tmpdir);
    return unit_done();
}
