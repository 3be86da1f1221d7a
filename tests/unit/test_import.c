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
    CHECK(!strstr(conf, "api")); /* other sub-systems: a note on stderr, not in the file */
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

/* import_main reads a file and writes to stdout; usage errors are 2. */
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
    int rc = import_main(1, args);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    CHECK_INT(rc, 0);
    struct gw_config c;
    const struct target_conf *t = load1(&c, outp, "nsq:1");
    CHECK_STR(STR(t, "topic"), "t");
    config_free(&c);
    char missing[] = "/nonexistent/mc.txt", *a2[] = { missing, NULL };
    CHECK_INT(import_main(1, a2), 1);
    char bogus[] = "--bogus", *a3[] = { bogus, in, NULL };
    CHECK_INT(import_main(2, a3), 2);
    char flag[] = "--bucket", name[] = "images", *a4[] = { flag, name, NULL };
    CHECK_INT(import_main(2, a4), 2); /* --bucket without its file */
}

/* ---- bucket rules (--bucket NAME FILE) ------------------------------------------------ */

static const char NOTIFY[] = "notify_webhook:1 endpoint=\"http://127.0.0.1:9/\"\n"
                             "notify_redis:PRIMARY address=\"127.0.0.1:6379\" key=\"ev\"\n"
                             "notify_postgres:pg connection_string=\"host=db\" table=\"t\" enable=\"off\"\n";

/* Import NOTIFY and one bucket's text; the output loaded back (c), or
 * the error (rc -1, message in err). */
static int import_bucket(const char *bucket, const char *text, struct gw_config *c, char *err, size_t errlen)
{
    static int seq;
    char path[256];
    snprintf(path, sizeof path, "%s/bucket%d.lua", tmpdir, ++seq);
    struct import_input in[2] = { { NULL, "notify.txt", NOTIFY, strlen(NOTIFY) },
                                  { bucket, "rules.in", text, strlen(text) } };
    FILE *f = fopen(path, "w");
    int rc = import_inputs(in, 2, f, err, errlen);
    fclose(f);
    memset(c, 0, sizeof *c);
    if (rc < 0)
        return -1;
    if (config_load(c, path, err, errlen)) {
        printf("  # config_load of the import: %s\n", err);
        return -2;
    }
    return rc;
}

static const struct bucket_rule *rule(const struct gw_config *c, size_t i)
{
    return i < c->buckets.n ? &c->buckets.r[i] : NULL;
}

#define RULE_STR(c, i, f) (rule(c, i) ? rule(c, i)->f : NULL)

/* GetBucketNotificationConfiguration's XML, as AWS and MinIO write it. */
TEST(bucket_xml)
{
    const char *xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<NotificationConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<QueueConfiguration><Id>1</Id><Filter><S3Key>"
        "<FilterRule><Name>prefix</Name><Value>photos/</Value></FilterRule>"
        "<FilterRule><Name>suffix</Name><Value>.jpg</Value></FilterRule></S3Key></Filter>"
        "<Queue>arn:minio:sqs::1:webhook</Queue><Event>s3:ObjectCreated:*</Event>"
        "<Event>s3:ObjectRemoved:Delete</Event></QueueConfiguration>\n"
        "<QueueConfiguration><Queue>arn:minio:sqs:us-east-1:pg:postgresql</Queue>"
        "<Event>s3:ObjectAccessed:*</Event><Filter><S3Key><FilterRule><Name>suffix</Name>"
        "<Value>&lt;&amp;&quot;\\</Value></FilterRule></S3Key></Filter></QueueConfiguration>"
        "</NotificationConfiguration>";
    struct gw_config c;
    char err[1024];
    CHECK(import_bucket("images", xml, &c, err, sizeof err) >= 0);
    CHECK_INT(c.buckets.n, 2);
    CHECK_STR(RULE_STR(&c, 0, id), "1");
    CHECK_STR(RULE_STR(&c, 0, target), "webhook:1");
    CHECK_STR(RULE_STR(&c, 0, prefix), "photos/");
    CHECK_STR(RULE_STR(&c, 0, suffix), ".jpg");
    CHECK(rule(&c, 0) && rule(&c, 0)->nevents == 2);
    CHECK_STR(rule(&c, 0) ? rule(&c, 0)->events[1] : NULL, "s3:ObjectRemoved:Delete");
    /* postgresql in an ARN is the postgres kind; a disabled target keeps its rule */
    CHECK_STR(RULE_STR(&c, 1, target), "postgres:pg");
    CHECK(RULE_STR(&c, 1, prefix) == NULL);
    CHECK_STR(RULE_STR(&c, 1, suffix), "<&\"\\"); /* entities decoded, quotes and backslash kept */
    config_free(&c);
}

/* What `mc event list ALIAS/BUCKET` prints: ARN, events, Filter, three
 * spaces apart, prefix and suffix back to back; colours on a terminal. */
TEST(bucket_mc_text)
{
    const char *txt =
        "arn:minio:sqs::1:webhook   s3:ObjectCreated:*,s3:ObjectRemoved:*   Filter: prefix=\"photos/\"suffix=\".jpg\"\n"
        "\n"
        "\033[32;1marn:minio:sqs::PRIMARY:redis   \033[0m\033[36;1ms3:ObjectAccessed:*\033[0m\033[1m   Filter: \033[0m\n"
        "arn:minio:sqs::1:webhook   s3:ObjectRestore:*   Filter: suffix=\"a \"b\"\n"
        "arn:minio:sqs::1:webhook   s3:Replication:*   Filter: prefix=\"x\"suffix=\"y\"suffix=\"z\"\n"
        "arn:minio:sqs::1:webhook   s3:Replication:*   Filter: prefix=\"suffix=\"x\"\n"
        "arn:minio:sqs::1:webhook   s3:Replication:*   Filter: prefix=\"a\"suffix=\"\"\n";
    struct gw_config c;
    char err[1024];
    CHECK(import_bucket("logs", txt, &c, err, sizeof err) >= 0);
    CHECK_INT(c.buckets.n, 6);
    CHECK_STR(RULE_STR(&c, 0, prefix), "photos/");
    CHECK_STR(RULE_STR(&c, 0, suffix), ".jpg");
    CHECK(rule(&c, 0) && rule(&c, 0)->nevents == 2);
    CHECK_STR(RULE_STR(&c, 1, target), "redis:PRIMARY");
    CHECK(RULE_STR(&c, 1, prefix) == NULL && RULE_STR(&c, 1, suffix) == NULL);
    CHECK_STR(RULE_STR(&c, 2, suffix), "a \"b"); /* quotes inside a value */
    CHECK_STR(RULE_STR(&c, 3, prefix), "x\"suffix=\"y"); /* ambiguous: the last "suffix=" wins */
    CHECK_STR(RULE_STR(&c, 3, suffix), "z");
    /* mc prints no empty value: a prefix starting with suffix=" (found by fuzz_import_bucket) */
    CHECK_STR(RULE_STR(&c, 4, prefix), "suffix=\"x");
    CHECK(RULE_STR(&c, 4, suffix) == NULL);
    CHECK_STR(RULE_STR(&c, 5, prefix), "a\"suffix=\"");
    config_free(&c);
}

/* `mc event list --json`: one compact object per line when piped, indented
 * on a terminal; "" means no filter. */
TEST(bucket_mc_json)
{
    const char *json =
        "{\"status\":\"success\",\"id\":\"\",\"event\":[\"s3:ObjectCreated:*\"],\"prefix\":\"\",\"suffix\":\".gz\","
        "\"arn\":\"arn:minio:sqs::1:webhook\"}\n"
        "{\n \"status\": \"success\",\n \"id\": \"two\",\n \"event\": [\n  \"s3:ObjectRemoved:*\",\n"
        "  \"s3:ObjectCreated:Put\"\n ],\n \"prefix\": \"a/\",\n \"suffix\": \"\",\n"
        " \"arn\": \"arn:minio:sqs::PRIMARY:redis\"\n}\n";
    struct gw_config c;
    char err[1024];
    CHECK(import_bucket("media", json, &c, err, sizeof err) >= 0);
    CHECK_INT(c.buckets.n, 2);
    CHECK(RULE_STR(&c, 0, prefix) == NULL);
    CHECK_STR(RULE_STR(&c, 0, suffix), ".gz");
    CHECK_STR(RULE_STR(&c, 1, id), "two");
    CHECK_STR(RULE_STR(&c, 1, prefix), "a/");
    CHECK(RULE_STR(&c, 1, suffix) == NULL);
    CHECK(rule(&c, 1) && rule(&c, 1)->nevents == 2);
    config_free(&c);
}

/* `mc admin config export` holds every sub-system: only notify_* is imported. */
TEST(export_output)
{
    const char *in = "api requests_max=0 requests_deadline=10s\n"
                     "site name= region=us-east-1\n"
                     "notify_webhook:1 endpoint=\"http://127.0.0.1:9/\" queue_limit=\"0\"\n"
                     "heal bitrotscan=off max_sleep=250ms\n"
                     "notify_redis enable=off address=\"\" key=\"\"\n";
    char *conf, path[256];
    CHECK(import(in, &conf, path, sizeof path) >= 0);
    CHECK(!strstr(conf, "bitrotscan") && !strstr(conf, "requests_max"));
    struct gw_config c;
    const struct target_conf *t = load1(&c, path, "webhook:1");
    CHECK_STR(STR(t, "endpoint"), "http://127.0.0.1:9/");
    CHECK_INT(c.ntargets, 1);
    CHECK(!c.buckets.given);
    config_free(&c);
    free(conf);
}

/* Bad input fails with the file, the line and the problem. */
static void bad(const char *bucket, const char *text, const char *want)
{
    struct gw_config c;
    char err[1024] = "";
    int rc = import_bucket(bucket, text, &c, err, sizeof err);
    if (rc != -1 || !strstr(err, want)) {
        unit_cur_failed = 1;
        printf("  # import of %.60s: rc %d, '%s', wanted '%s'\n", text, rc, err, want);
    }
    if (rc >= 0)
        config_free(&c);
}

TEST(bucket_errors_name_file_and_line)
{
    bad("b", "<NotificationConfiguration>\n<TopicConfiguration><Topic>arn:aws:sns:::t</Topic>"
        "</TopicConfiguration></NotificationConfiguration>", "rules.in:2: <TopicConfiguration>: MinIO does not support");
    bad("b", "<NotificationConfiguration>\n<CloudFunctionConfiguration/></NotificationConfiguration>",
        "rules.in:2: <CloudFunctionConfiguration>");
    bad("b", "<NotificationConfiguration>\n\n<QueueConfiguration><Queue>arn:minio:sqs::1:webhook</Queue>"
        "<Event>s3:ObjectCreated:Pot</Event></QueueConfiguration></NotificationConfiguration>",
        "rules.in:3: bucket 'b' rule 1: invalid event name 's3:ObjectCreated:Pot'");
    bad("b", "<NotificationConfiguration><QueueConfiguration><Queue>arn:minio:sqs::1:webhook</Queue>"
        "</QueueConfiguration></NotificationConfiguration>", "rules.in:1: bucket 'b' rule 1: missing event name(s)");
    bad("b", "<NotificationConfiguration><QueueConfiguration><Queue>arn:minio:sqs::1:webhook</Queue>"
        "<Event>s3:ObjectCreated:*</Event><Event>s3:ObjectCreated:*</Event></QueueConfiguration>"
        "</NotificationConfiguration>", "duplicate event name 's3:ObjectCreated:*'");
    bad("b", "<NotificationConfiguration><QueueConfiguration><Queue>arn:minio:sqs::1:webhook</Queue>"
        "<Event>put</Event><Filter><S3Key><FilterRule><Name>regex</Name><Value>x</Value></FilterRule>"
        "</S3Key></Filter></QueueConfiguration></NotificationConfiguration>", "invalid filter name 'regex'");
    bad("b", "<NotificationConfiguration><QueueConfiguration><Queue>arn:minio:sqs::1:webhook</Queue>"
        "<Event>put</Event><Filter><S3Key><FilterRule><Name>suffix</Name><Value>x</Value></FilterRule>"
        "<FilterRule><Name>Suffix</Name><Value>y</Value></FilterRule></S3Key></Filter></QueueConfiguration>"
        "</NotificationConfiguration>", "more than one suffix in filter rule");
    bad("b", "<NotificationConfiguration>\n<QueueConfiguration><Id>a</Id><Queue>arn:minio:sqs::1:webhook</Queue>"
        "<Event>put</Event></QueueConfiguration>\n<QueueConfiguration><Id>a</Id><Queue>arn:minio:sqs::1:webhook"
        "</Queue><Event>put</Event></QueueConfiguration></NotificationConfiguration>",
        "rules.in:3: bucket 'b' rule 2 (id 'a'): duplicate of rule 1");
    bad("b", "<NotificationConfiguration><QueueConfiguration><Queue>arn:minio:sqs:1:webhook</Queue>"
        "<Event>put</Event></QueueConfiguration></NotificationConfiguration>", "invalid ARN 'arn:minio:sqs:1:webhook'");
    bad("b", "<NotificationConfiguration><QueueConfiguration><Queue>arn:minio:sqs::2:webhook</Queue>"
        "<Event>put</Event></QueueConfiguration></NotificationConfiguration>",
        "ARN 'arn:minio:sqs::2:webhook' names target webhook:2, which the imported MinIO settings do not have");
    bad("b", "<NotificationConfiguration>\n<QueueConfiguration>", "rules.in:2: not well-formed XML");
    bad("b", "<Notification/>", "rules.in:1: expected element <NotificationConfiguration>");
    bad("b", "arn:minio:sqs::1:webhook   put   Filter: \nthis is not mc's output\n",
        "rules.in:2: not a line of `mc event list");
    bad("b", "arn:minio:sqs::1:webhook   put   Filter: prefix=photos\n", "rules.in:1: cannot read the filter");
    bad("b", "arn:minio:sqs::1:webhook   s3:ObjectCreated:*,s3:ObjectCreated:Putt   Filter: \n",
        "rules.in:1: bucket 'b' rule 1: invalid event name 's3:ObjectCreated:Putt'");
    bad("b", "{\"status\":\"success\",\"event\":[\"put\"],\"arn\":\"arn:minio:sqs::1:webhook\"}\n"
        "{\"status\":\"error\",\"error\":{\"message\":\"Access Denied.\"}}\n", "rules.in:2: mc reported an error: Access Denied.");
    bad("b", "{\"status\":\"success\",\"event\":[1],\"arn\":\"arn:minio:sqs::1:webhook\"}", "rules.in:1: \"event\" holds a number");
    bad("b", "{\"status\":\"success\",\"event\":[\"put\"]}", "rules.in:1: no \"arn\" string");
    bad("b", "{\"status\":\"success\",\n\"event\":[\"put\"],\"arn\":\"arn:minio:sqs::1:webhook\"}\n{\"status\":",
        "rules.in:3: not valid JSON");
    static const char nul[] = "arn:minio:sqs::1:webhook   put   Filter: \narn:minio\0";
    struct import_input in[2] = { { NULL, "n.txt", NOTIFY, strlen(NOTIFY) }, { "b", "rules.in", nul, sizeof nul - 1 } };
    char err[512] = "";
    FILE *f = tmpfile();
    CHECK_INT(import_inputs(in, 2, f, err, sizeof err), -1);
    CHECK(strstr(err, "rules.in:2: a NUL byte") != NULL);
    fclose(f);
}

/* A bucket twice, a rule naming a target only MinIO's environment has, an
 * empty configuration (the bucket sends nowhere, as in MinIO). */
TEST(bucket_inputs_together)
{
    const char *notify = "notify_webhook:1 endpoint=\"http://127.0.0.1:9/\"\n"
                         "# MINIO_NOTIFY_KAFKA_ENABLE_K=on\n";
    const char *xml = "<NotificationConfiguration><QueueConfiguration><Queue>arn:minio:sqs::K:kafka</Queue>"
                      "<Event>put</Event></QueueConfiguration></NotificationConfiguration>";
    struct import_input in[3] = { { NULL, "n.txt", notify, strlen(notify) }, { "a", "a.xml", xml, strlen(xml) },
                                  { "a", "a2.xml", xml, strlen(xml) } };
    char err[1024];
    FILE *f = tmpfile();
    CHECK_INT(import_inputs(in, 3, f, err, sizeof err), -1);
    CHECK(strstr(err, "bucket 'a' is given twice (a.xml and a2.xml)") != NULL);
    CHECK(import_inputs(in, 2, f, err, sizeof err) >= 0); /* kafka:K is enabled in MinIO's environment */
    struct import_input empty[2] = { { NULL, "n.txt", notify, strlen(notify) }, { "quiet", "q.xml", "", 0 } };
    rewind(f);
    CHECK(import_inputs(empty, 2, f, err, sizeof err) >= 0);
    fflush(f);
    rewind(f);
    char out[8192];
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = 0;
    CHECK(strstr(out, "buckets = {\n}") != NULL);
    fclose(f);
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
    RUN(bucket_xml);
    RUN(bucket_mc_text);
    RUN(bucket_mc_json);
    RUN(export_output);
    RUN(bucket_errors_name_file_and_line);
    RUN(bucket_inputs_together);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd))
        printf("  # could not remove %s\n", tmpdir);
    return unit_done();
}
