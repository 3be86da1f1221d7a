/* test_config.c -- the Lua config file and MinIO's MINIO_NOTIFY_* env:
 * target discovery, env winning per key, validation messages, globals,
 * the Authorization rule and ARNs.  Every test starts from an
 * environment without MINIO_NOTIFY_* / LUAGATE_* settings and removes
 * what it set. */
#include <ctype.h>
#include <ftw.h>
#include <unistd.h>
#include "unit.h"
#include "config.h"

extern char **environ;

static char err[1024];
static char tmp[64];
static int nconf;

static const char *const global_env[] = {
    "LUAGATE_LISTEN", "LUAGATE_AUTH_TOKEN", "LUAGATE_QUEUE_DIR", "LUAGATE_SCRIPT",
    "LUAGATE_BODY_LIMIT", "LUAGATE_COMMIT_WINDOW", "LUAGATE_LOG_FORMAT",
    "LUAGATE_SCRIPT_MEMORY", "LUAGATE_SCRIPT_INSTRUCTIONS", NULL,
};

/* Unset every variable config_load reads. */
static void clean_env(void)
{
    char *names[512];
    size_t n = 0;
    for (char **e = environ; *e && n < 512; e++)
        if (!strncmp(*e, "MINIO_NOTIFY_", 13) || !strncmp(*e, "LUAGATE_NOTIFY_", 15)) {
            const char *eq = strchr(*e, '=');
            names[n++] = strndup(*e, eq ? (size_t)(eq - *e) : strlen(*e));
        }
    for (size_t i = 0; i < n; i++) {
        unsetenv(names[i]);
        free(names[i]);
    }
    for (int i = 0; global_env[i]; i++)
        unsetenv(global_env[i]);
}

/* A config file with text; the path is static until the next call. */
static const char *conf(const char *text)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/c%d.lua", tmp, nconf++);
    FILE *f = fopen(path, "w");
    if (!f)
        return NULL;
    fputs(text, f);
    fclose(f);
    return path;
}

/* Load text (or an empty file); 0 or -1 with err set.  c is always freed
 * by the caller with config_free. */
static int load(struct gw_config *c, const char *text)
{
    err[0] = 0;
    return config_load(c, conf(text ? text : ""), err, sizeof err);
}

static int has(const char *s, const char *part)
{
    if (!strstr(s, part)) {
        printf("  # '%s' does not contain '%s'\n", s, part);
        return 0;
    }
    return 1;
}

static const struct target_conf *target(const struct gw_config *c, const char *name)
{
    for (size_t i = 0; i < c->ntargets; i++)
        if (!strcmp(tconf_name(c->targets[i]), name))
            return c->targets[i];
    return NULL;
}

TEST(env_only_webhook_target)
{
    clean_env();
    setenv("MINIO_NOTIFY_WEBHOOK_ENABLE_PRIMARY", "on", 1);
    setenv("MINIO_NOTIFY_WEBHOOK_ENDPOINT_PRIMARY", "http://127.0.0.1:1/", 1);
    struct gw_config c;
    CHECK_INT(load(&c, NULL), 0);
    CHECK_INT(c.ntargets, 1);
    if (c.ntargets == 1) {
        CHECK_STR(tconf_name(c.targets[0]), "webhook:PRIMARY");
        CHECK_STR(tconf_id(c.targets[0]), "PRIMARY");
        CHECK_STR(tconf_str(c.targets[0], "endpoint"), "http://127.0.0.1:1/");
        CHECK_INT(tconf_int(c.targets[0], "queue_limit"), 100000); /* default */
        CHECK_INT(tconf_ms(c.targets[0], "timeout"), 60000);
        char arn[128];
        config_arn(c.targets[0], arn, sizeof arn);
        CHECK_STR(arn, "arn:minio:sqs::PRIMARY:webhook");
    }
    config_free(&c);
    clean_env();
}

TEST(env_default_target_and_ids_with_underscores)
{
    clean_env();
    setenv("MINIO_NOTIFY_WEBHOOK_ENABLE", "on", 1);
    setenv("MINIO_NOTIFY_WEBHOOK_ENDPOINT", "http://127.0.0.1:2/hook", 1);
    setenv("MINIO_NOTIFY_WEBHOOK_ENABLE_MY_ID", "on", 1);
    setenv("MINIO_NOTIFY_WEBHOOK_ENDPOINT_MY_ID", "https://example.com/x", 1);
    setenv("MINIO_NOTIFY_WEBHOOK_QUEUE_LIMIT_MY_ID", "7", 1);
    struct gw_config c;
    CHECK_INT(load(&c, NULL), 0);
    CHECK_INT(c.ntargets, 2);
    const struct target_conf *d = target(&c, "webhook:_"), *m = target(&c, "webhook:MY_ID");
    CHECK(d && m);
    if (d && m) {
        CHECK_STR(tconf_str(d, "endpoint"), "http://127.0.0.1:2/hook");
        CHECK_STR(tconf_str(m, "endpoint"), "https://example.com/x");
        CHECK_INT(tconf_int(m, "queue_limit"), 7);
        CHECK_INT(tconf_int(d, "queue_limit"), 100000);
        char arn[128];
        config_arn(d, arn, sizeof arn);
        CHECK_STR(arn, "arn:minio:sqs::_:webhook");
    }
    /* sorted by name */
    if (c.ntargets == 2)
        CHECK(strcmp(tconf_name(c.targets[0]), tconf_name(c.targets[1])) < 0);
    config_free(&c);
    clean_env();
}

TEST(env_file_target_uses_luagate_prefix)
{
    clean_env();
    struct gw_config c;
    const struct kind_info *k = driver_kind("file");
    if (!k || !k->drv) {
        printf("  # file driver not linked: skipped\n");
        return;
    }
    setenv("LUAGATE_NOTIFY_FILE_ENABLE_L", "on", 1);
    setenv("LUAGATE_NOTIFY_FILE_PATH_L", "/tmp/luagate-events.jsonl", 1);
    CHECK_INT(load(&c, NULL), 0);
    const struct target_conf *t = target(&c, "file:L");
    CHECK(t != NULL);
    if (t)
        CHECK_STR(tconf_str(t, "path"), "/tmp/luagate-events.jsonl");
    config_free(&c);
    clean_env();
}

TEST(env_wins_per_key_over_the_file)
{
    clean_env();
    const char *file = "targets = {\n"
                       "  ['webhook:PRIMARY'] = { endpoint = 'http://file.example/', queue_limit = 5,\n"
                       "                         comment = 'from the file' },\n"
                       "  ['webhook:OFF'] = { enable = false, endpoint = 'http://off.example/' },\n"
                       "  ['webhook:GONE'] = { endpoint = 'http://gone.example/' },\n"
                       "}\n";
    setenv("MINIO_NOTIFY_WEBHOOK_ENDPOINT_PRIMARY", "http://env.example/", 1);
    setenv("MINIO_NOTIFY_WEBHOOK_ENABLE_OFF", "on", 1);
    setenv("MINIO_NOTIFY_WEBHOOK_ENABLE_GONE", "off", 1);
    struct gw_config c;
    CHECK_INT(load(&c, file), 0);
    if (err[0])
        printf("  # %s\n", err);
    const struct target_conf *p = target(&c, "webhook:PRIMARY");
    CHECK(p != NULL);
    if (p) {
        CHECK_STR(tconf_str(p, "endpoint"), "http://env.example/");
        CHECK_INT(tconf_int(p, "queue_limit"), 5);
        CHECK_STR(tconf_str(p, "comment"), "from the file");
    }
    CHECK(target(&c, "webhook:OFF") != NULL); /* enabled by env */
    CHECK(target(&c, "webhook:GONE") == NULL); /* disabled by env */
    CHECK_INT(c.ntargets, 2);
    config_free(&c);
    clean_env();
}

TEST(special_env_names)
{
    clean_env();
    struct gw_config c;
    const struct kind_info *amqp = driver_kind("amqp"), *nsq = driver_kind("nsq");
    if (amqp && amqp->drv) {
        setenv("MINIO_NOTIFY_AMQP_ENABLE_X", "on", 1);
        setenv("MINIO_NOTIFY_AMQP_URL_X", "amqp://guest:guest@127.0.0.1:5672/", 1);
        setenv("MINIO_NOTIFY_AMQP_PUBLISHING_CONFIRMS_X", "on", 1);
        setenv("MINIO_NOTIFY_AMQP_DURABLE_X", "true", 1);
        CHECK_INT(load(&c, NULL), 0);
        const struct target_conf *t = target(&c, "amqp:X");
        CHECK(t != NULL);
        if (t) {
            CHECK_STR(tconf_str(t, "publisher_confirms"), "on");
            CHECK_INT(tconf_bool(t, "publisher_confirms"), 1);
            CHECK_INT(tconf_bool(t, "durable"), 1);
            CHECK_INT(tconf_bool(t, "mandatory"), 0);
        }
        config_free(&c);
        /* the key's own spelling is not MinIO's variable */
        setenv("MINIO_NOTIFY_AMQP_PUBLISHER_CONFIRMS_X", "on", 1);
        CHECK_INT(load(&c, NULL), -1);
        CHECK(has(err, "MINIO_NOTIFY_AMQP_PUBLISHER_CONFIRMS_X"));
        config_free(&c);
        clean_env();
    } else {
        printf("  # amqp driver not linked: PUBLISHING_CONFIRMS not checked\n");
    }
    if (nsq && nsq->drv) {
        setenv("MINIO_NOTIFY_NSQ_ENABLE_N1", "on", 1);
        setenv("MINIO_NOTIFY_NSQ_NSQD_ADDRESS_N1", "127.0.0.1:4150", 1);
        setenv("MINIO_NOTIFY_NSQ_TOPIC_N1", "minio", 1);
        setenv("MINIO_NOTIFY_NSQ_TLS_SKIP_VERIFY_N1", "on", 1);
        CHECK_INT(load(&c, NULL), 0);
        const struct target_conf *t = target(&c, "nsq:N1");
        CHECK(t != NULL);
        if (t) {
            CHECK_STR(tconf_str(t, "nsqd_address"), "127.0.0.1:4150");
            CHECK_STR(tconf_str(t, "topic"), "minio");
            CHECK_INT(tconf_bool(t, "tls_skip_verify"), 1);
            CHECK_INT(tconf_bool(t, "tls"), 0);
        }
        config_free(&c);
        clean_env();
    } else {
        printf("  # nsq driver not linked: NSQD_ADDRESS not checked\n");
    }
}

TEST(booleans)
{
    static const char *const yes[] = { "on", "true", "1", "ON", "True", NULL };
    static const char *const no[] = { "off", "false", "0", "OFF", NULL };
    struct gw_config c;
    for (int i = 0; yes[i]; i++) {
        clean_env();
        setenv("MINIO_NOTIFY_WEBHOOK_ENABLE_B", yes[i], 1);
        setenv("MINIO_NOTIFY_WEBHOOK_ENDPOINT_B", "http://127.0.0.1:1/", 1);
        CHECK_INT(load(&c, NULL), 0);
        if (c.ntargets != 1)
            printf("  # enable=%s did not enable\n", yes[i]);
        CHECK_INT(c.ntargets, 1);
        config_free(&c);
    }
    for (int i = 0; no[i]; i++) {
        clean_env();
        setenv("MINIO_NOTIFY_WEBHOOK_ENABLE_B", no[i], 1);
        setenv("MINIO_NOTIFY_WEBHOOK_ENDPOINT_B", "http://127.0.0.1:1/", 1);
        CHECK_INT(load(&c, NULL), 0);
        if (c.ntargets != 0)
            printf("  # enable=%s did not disable\n", no[i]);
        CHECK_INT(c.ntargets, 0);
        config_free(&c);
    }
    /* maybe: refused, naming the variable and the value */
    clean_env();
    setenv("MINIO_NOTIFY_WEBHOOK_ENABLE_B", "maybe", 1);
    setenv("MINIO_NOTIFY_WEBHOOK_ENDPOINT_B", "http://127.0.0.1:1/", 1);
    CHECK_INT(load(&c, NULL), -1);
    CHECK(has(err, "MINIO_NOTIFY_WEBHOOK_ENABLE_B"));
    CHECK(has(err, "maybe"));
    config_free(&c);
    clean_env();
    /* in the file: naming target, key and value */
    CHECK_INT(load(&c, "targets = { ['webhook:B'] = { enable = 'maybe', endpoint = 'http://h/' } }"),
              -1);
    CHECK(has(err, "webhook:B"));
    CHECK(has(err, "'enable'"));
    CHECK(has(err, "'maybe'"));
    config_free(&c);
    const struct kind_info *amqp = driver_kind("amqp");
    if (amqp && amqp->drv) {
        CHECK_INT(load(&c, "targets = { ['amqp:Q'] = { url = 'amqp://127.0.0.1:5672/', "
                           "durable = 'maybe' } }"),
                  -1);
        CHECK(has(err, "amqp:Q"));
        CHECK(has(err, "'durable'"));
        CHECK(has(err, "'maybe'"));
        config_free(&c);
        CHECK_INT(load(&c, "targets = { ['amqp:Q'] = { url = 'amqp://127.0.0.1:5672/', "
                           "durable = true, mandatory = 'false', no_wait = 1 } }"),
                  0);
        const struct target_conf *t = target(&c, "amqp:Q");
        CHECK(t != NULL);
        if (t) {
            CHECK_INT(tconf_bool(t, "durable"), 1);
            CHECK_INT(tconf_bool(t, "mandatory"), 0);
            CHECK_INT(tconf_bool(t, "no_wait"), 1);
        }
        config_free(&c);
    }
}

TEST(unknown_keys_refused)
{
    clean_env();
    struct gw_config c;
    CHECK_INT(load(&c, "targets = { ['webhook:A'] = { endpoint = 'http://h/', endpont = 'x' } }"), -1);
    CHECK(has(err, "webhook:A"));
    CHECK(has(err, "'endpont'"));
    config_free(&c);
    setenv("MINIO_NOTIFY_WEBHOOK_ENABLE_X", "on", 1);
    setenv("MINIO_NOTIFY_WEBHOOK_ENDPOINT_X", "http://127.0.0.1:1/", 1);
    setenv("MINIO_NOTIFY_WEBHOOK_ENDPOIN_X", "http://127.0.0.1:1/", 1);
    CHECK_INT(load(&c, NULL), -1);
    CHECK(has(err, "MINIO_NOTIFY_WEBHOOK_ENDPOIN_X"));
    config_free(&c);
    clean_env();
}

TEST(key_for_an_id_that_is_not_enabled)
{
    clean_env();
    setenv("MINIO_NOTIFY_WEBHOOK_ENABLE_X", "on", 1);
    setenv("MINIO_NOTIFY_WEBHOOK_ENDPOINT_X", "http://127.0.0.1:1/", 1);
    setenv("MINIO_NOTIFY_WEBHOOK_ENDPOINT_OTHER", "http://127.0.0.1:1/", 1);
    struct gw_config c;
    CHECK_INT(load(&c, NULL), -1);
    CHECK(has(err, "MINIO_NOTIFY_WEBHOOK_ENDPOINT_OTHER"));
    CHECK(has(err, "webhook:OTHER"));
    CHECK(has(err, "MINIO_NOTIFY_WEBHOOK_ENABLE_OTHER"));
    config_free(&c);
    clean_env();
    /* the default target too */
    setenv("MINIO_NOTIFY_WEBHOOK_ENDPOINT", "http://127.0.0.1:1/", 1);
    CHECK_INT(load(&c, NULL), -1);
    CHECK(has(err, "webhook:_"));
    config_free(&c);
    clean_env();
}

TEST(missing_required_key)
{
    clean_env();
    setenv("MINIO_NOTIFY_WEBHOOK_ENABLE_X", "on", 1);
    struct gw_config c;
    CHECK_INT(load(&c, NULL), -1);
    CHECK(has(err, "webhook:X"));
    CHECK(has(err, "'endpoint'"));
    CHECK(has(err, "required"));
    config_free(&c);
    clean_env();
    CHECK_INT(load(&c, "targets = { ['webhook:F'] = { comment = 'no endpoint' } }"), -1);
    CHECK(has(err, "webhook:F"));
    CHECK(has(err, "'endpoint'"));
    config_free(&c);
}

/* Load one webhook target with an extra key = value; expect refusal naming both. */
static void refused(const char *key, const char *val, const char *endpoint)
{
    char text[512];
    snprintf(text, sizeof text, "targets = { ['webhook:V'] = { endpoint = '%s', %s = '%s' } }",
             endpoint, key, val);
    struct gw_config c;
    int rc = load(&c, text);
    CHECK_INT(rc, -1);
    CHECK(has(err, "webhook:V"));
    CHECK(has(err, key));
    CHECK(has(err, val));
    config_free(&c);
}

TEST(bad_values_refused)
{
    clean_env();
    struct gw_config c;
    /* bad URLs */
    CHECK_INT(load(&c, "targets = { ['webhook:V'] = { endpoint = 'not a url' } }"), -1);
    CHECK(has(err, "webhook:V"));
    CHECK(has(err, "'endpoint'"));
    CHECK(has(err, "not a url"));
    config_free(&c);
    CHECK_INT(load(&c, "targets = { ['webhook:V'] = { endpoint = 'ftp://h/x' } }"), -1);
    CHECK(has(err, "'endpoint'"));
    config_free(&c);
    refused("retry_min", "fast", "http://h/");
    refused("retry_max", "10 parsecs", "http://h/");
    refused("timeout", "1x", "http://h/");
    refused("queue_limit", "-1", "http://h/");
    refused("queue_limit", "many", "http://h/");
    refused("max_attempts", "3.5", "http://h/");
    refused("queue_dir", "relative/queue", "http://h/");
    /* the good spellings pass */
    CHECK_INT(load(&c, "targets = { ['webhook:V'] = { endpoint = 'http://h:8080/p', retry_min = '250ms',"
                       " retry_max = '1m30s', queue_limit = 0, queue_dir = '/var/q', timeout = 5 } }"),
              0);
    if (err[0])
        printf("  # %s\n", err);
    const struct target_conf *t = target(&c, "webhook:V");
    CHECK(t != NULL);
    if (t) {
        CHECK_INT(tconf_ms(t, "retry_min"), 250);
        CHECK_INT(tconf_ms(t, "retry_max"), 90000);
        CHECK_INT(tconf_ms(t, "timeout"), 5000);
        CHECK_STR(tconf_str(t, "queue_dir"), "/var/q");
    }
    config_free(&c);
    /* env values are checked the same way */
    setenv("MINIO_NOTIFY_WEBHOOK_ENABLE_E", "on", 1);
    setenv("MINIO_NOTIFY_WEBHOOK_ENDPOINT_E", "http://127.0.0.1:1/", 1);
    setenv("MINIO_NOTIFY_WEBHOOK_QUEUE_LIMIT_E", "-1", 1);
    CHECK_INT(load(&c, NULL), -1);
    CHECK(has(err, "webhook:E"));
    CHECK(has(err, "'queue_limit'"));
    CHECK(has(err, "-1"));
    config_free(&c);
    clean_env();
}

TEST(bad_target_names_refused)
{
    clean_env();
    struct gw_config c;
    CHECK_INT(load(&c, "targets = { ['gopher:A'] = { endpoint = 'http://h/' } }"), -1);
    CHECK(has(err, "gopher"));
    config_free(&c);
    CHECK_INT(load(&c, "targets = { ['webhook'] = { endpoint = 'http://h/' } }"), -1);
    CHECK(has(err, "webhook:<id>"));
    config_free(&c);
    CHECK_INT(load(&c, "targets = { ['webhook:a/b'] = { endpoint = 'http://h/' } }"), -1);
    config_free(&c);
    /* a syntax error names the file */
    CHECK_INT(load(&c, "targets = {"), -1);
    CHECK(has(err, tmp));
    config_free(&c);
    /* a missing file */
    err[0] = 0;
    CHECK_INT(config_load(&c, "/nonexistent/luagate.conf.lua", err, sizeof err), -1);
    CHECK(has(err, "/nonexistent/luagate.conf.lua"));
    config_free(&c);
}

TEST(kind_without_a_driver)
{
    clean_env();
    const struct kind_info *k = driver_kind("kafka");
    CHECK(k != NULL);
    if (!k || k->drv) {
        printf("  # kafka driver linked: skipped\n");
        return;
    }
    struct gw_config c;
    CHECK_INT(load(&c, "targets = { ['kafka:K'] = { brokers = '127.0.0.1:9092', topic = 't' } }"), -1);
    CHECK(has(err, "target kind kafka is not available yet"));
    config_free(&c);
    setenv("MINIO_NOTIFY_KAFKA_ENABLE_K", "on", 1);
    CHECK_INT(load(&c, NULL), -1);
    CHECK(has(err, "target kind kafka is not available yet"));
    config_free(&c);
    /* a migrated MinIO setting: the kind is known, its keys should be too
     * (drivers.c: "its configuration is recognised") */
    setenv("MINIO_NOTIFY_KAFKA_BROKERS_K", "127.0.0.1:9092", 1);
    CHECK_INT(load(&c, NULL), -1);
    CHECK(has(err, "target kind kafka is not available yet"));
    config_free(&c);
    clean_env();
}

TEST(enable_off_drops_a_target)
{
    clean_env();
    struct gw_config c;
    CHECK_INT(load(&c, "targets = {\n"
                       "  ['webhook:A'] = { enable = false, endpoint = 'http://h/' },\n"
                       "  ['webhook:B'] = { enable = 'off', endpoint = 'http://h/' },\n"
                       "  ['webhook:C'] = { enable = 'on', endpoint = 'http://h/' },\n"
                       "  ['webhook:D'] = { endpoint = 'http://h/' },\n"
                       "}"),
              0);
    CHECK_INT(c.ntargets, 2);
    CHECK(target(&c, "webhook:A") == NULL);
    CHECK(target(&c, "webhook:B") == NULL);
    CHECK(target(&c, "webhook:C") != NULL);
    CHECK(target(&c, "webhook:D") != NULL); /* no enable key: on, as in MinIO */
    config_free(&c);
}

TEST(globals_defaults_file_and_env)
{
    clean_env();
    struct gw_config c;
    CHECK_INT(load(&c, NULL), 0);
    CHECK_STR(c.listen, "127.0.0.1:9100");
    CHECK_STR(c.auth_token, "");
    CHECK_STR(c.queue_dir, "./queue");
    CHECK(c.script == NULL);
    CHECK_INT(c.body_limit, 1048576);
    CHECK_INT(c.commit_window_us, 0);
    CHECK_INT(c.log_json, 0);
    CHECK_INT(c.ntargets, 0);
    config_free(&c);

    const char *file = "listen = '0.0.0.0:9200'\n"
                       "auth_token = 'filetoken'\n"
                       "queue_dir = '/var/lib/luagate'\n"
                       "script = 'routes.lua'\n"
                       "body_limit = 2048\n"
                       "commit_window = '5ms'\n"
                       "log_format = 'json'\n"
                       "script_instructions = 500\n"
                       "local function helper() return 1 end\n"
                       "function also_ignored() end\n";
    CHECK_INT(load(&c, file), 0);
    if (err[0])
        printf("  # %s\n", err);
    CHECK_STR(c.listen, "0.0.0.0:9200");
    CHECK_STR(c.auth_token, "filetoken");
    CHECK_STR(c.queue_dir, "/var/lib/luagate");
    CHECK_STR(c.script, "routes.lua");
    CHECK_INT(c.body_limit, 2048);
    CHECK_INT(c.commit_window_us, 5000);
    CHECK_INT(c.log_json, 1);
    CHECK_INT(c.script_instructions, 500);
    CHECK(c.file != NULL);
    config_free(&c);

    /* env wins over the file */
    setenv("LUAGATE_LISTEN", "127.0.0.1:9999", 1);
    setenv("LUAGATE_AUTH_TOKEN", "Basic abc", 1);
    setenv("LUAGATE_BODY_LIMIT", "4096", 1);
    setenv("LUAGATE_COMMIT_WINDOW", "250us", 1);
    setenv("LUAGATE_LOG_FORMAT", "text", 1);
    CHECK_INT(load(&c, file), 0);
    CHECK_STR(c.listen, "127.0.0.1:9999");
    CHECK_STR(c.auth_token, "Basic abc");
    CHECK_STR(c.queue_dir, "/var/lib/luagate");
    CHECK_INT(c.body_limit, 4096);
    CHECK_INT(c.commit_window_us, 250);
    CHECK_INT(c.log_json, 0);
    config_free(&c);
    clean_env();

    /* a file that returns its settings */
    CHECK_INT(load(&c, "return { listen = '127.0.0.1:1234' }"), 0);
    CHECK_STR(c.listen, "127.0.0.1:1234");
    config_free(&c);

    /* bad global values name the variable or key */
    setenv("LUAGATE_BODY_LIMIT", "abc", 1);
    CHECK_INT(load(&c, NULL), -1);
    CHECK(has(err, "LUAGATE_BODY_LIMIT"));
    CHECK(has(err, "abc"));
    config_free(&c);
    clean_env();
    setenv("LUAGATE_LISTEN", "nohostport", 1);
    CHECK_INT(load(&c, NULL), -1);
    CHECK(has(err, "listen"));
    config_free(&c);
    clean_env();
    CHECK_INT(load(&c, "commit_window = '2s'"), -1);
    CHECK(has(err, "commit_window"));
    config_free(&c);
    CHECK_INT(load(&c, "log_format = 'xml'"), -1);
    CHECK(has(err, "log_format"));
    config_free(&c);
    CHECK_INT(load(&c, "auth_token = 'a b c'"), -1);
    CHECK(has(err, "auth_token"));
    CHECK(strstr(err, "a b c") == NULL);
    config_free(&c);
}

TEST(unknown_global_key_refused)
{
    clean_env();
    struct gw_config c;
    CHECK_INT(load(&c, "lisen = '127.0.0.1:9100'"), -1);
    CHECK(has(err, "'lisen'"));
    CHECK(has(err, tmp)); /* the file is named */
    config_free(&c);
}

TEST(auth_header_rule)
{
    char *h;
    CHECK_STR(h = config_auth_header("x"), "Bearer x");
    free(h);
    CHECK_STR(h = config_auth_header("  tok123 \t"), "Bearer tok123");
    free(h);
    CHECK_STR(h = config_auth_header("Basic abc"), "Basic abc");
    free(h);
    CHECK_STR(h = config_auth_header("Bearer\tabc"), "Bearer abc");
    free(h);
    CHECK((h = config_auth_header("a b c")) == NULL);
    free(h);
    CHECK((h = config_auth_header("")) == NULL);
    free(h);
    CHECK((h = config_auth_header("   ")) == NULL);
    free(h);
}

TEST(auth_header_long_token_kept_whole)
{
    /* JWTs with many claims run past 1 KiB */
    char tok[3001], want[3100];
    for (int i = 0; i < 3000; i++)
        tok[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[i % 36];
    tok[3000] = 0;
    snprintf(want, sizeof want, "Bearer %s", tok);
    char *h = config_auth_header(tok);
    CHECK_INT(h ? strlen(h) : 0, strlen(want));
    CHECK(h && !strcmp(h, want));
    free(h);
    char two[3100];
    snprintf(two, sizeof two, "Bearer %s", tok);
    h = config_auth_header(two);
    CHECK(h && !strcmp(h, two));
    free(h);
}

/* Every setting of the gateway's table: its variable is LUAGATE_<NAME>,
 * it has help, and a checked type says what it must be. */
TEST(settings_table)
{
    size_t n = 0;
    for (const struct config_key *k = config_keys; k->name; k++, n++) {
        char env[96] = "LUAGATE_";
        for (size_t i = 0; k->name[i] && i + 9 < sizeof env; i++)
            env[8 + i] = (char)toupper((unsigned char)k->name[i]);
        CHECK_STR(k->env, env);
        CHECK(k->help && *k->help && k->def);
        if (k->type != CONF_STR && k->type != CONF_OPT_STR && k->type != CONF_FILE && k->type != CONF_ENV_NAMES)
            CHECK(k->must && *k->must);
    }
    CHECK(n >= 16);
}

TEST(arn_kinds)
{
    const struct kind_info *pg = driver_kind("postgres");
    CHECK(pg != NULL);
    if (!pg)
        return;
    CHECK(driver_kind("postgresql") == pg);
    struct target_conf *t = tconf_new(pg, "ID");
    char arn[128];
    config_arn(t, arn, sizeof arn);
    CHECK_STR(arn, "arn:minio:sqs::ID:postgresql");
    CHECK_STR(tconf_name(t), "postgres:ID");
    tconf_free(t);
    t = tconf_new(driver_kind("webhook"), "1");
    config_arn(t, arn, sizeof arn);
    CHECK_STR(arn, "arn:minio:sqs::1:webhook");
    tconf_free(t);
}

TEST(secrets_never_in_errors)
{
    clean_env();
    struct gw_config c;
    const struct kind_info *amqp = driver_kind("amqp");
    if (amqp && amqp->drv) {
        /* a URL that is not one: the message names the key, not the value */
        CHECK_INT(load(&c, "targets = { ['amqp:S'] = { url = 'guest:s3cr3t@rabbit:5672' } }"), -1);
        CHECK(has(err, "amqp:S"));
        CHECK(has(err, "'url'"));
        CHECK(has(err, "***"));
        CHECK(strstr(err, "s3cr3t") == NULL);
        config_free(&c);
        /* a URL with the wrong scheme: the driver check says so, without it */
        CHECK_INT(load(&c, "targets = { ['amqp:S'] = { url = 'http://guest:s3cr3t@rabbit:5672/' } }"), -1);
        CHECK(has(err, "'url'"));
        CHECK(strstr(err, "s3cr3t") == NULL);
        config_free(&c);
        setenv("MINIO_NOTIFY_AMQP_ENABLE_S", "on", 1);
        setenv("MINIO_NOTIFY_AMQP_URL_S", "amqp//guest:s3cr3t@rabbit", 1);
        CHECK_INT(load(&c, NULL), -1);
        CHECK(strstr(err, "s3cr3t") == NULL);
        config_free(&c);
        clean_env();
    }
    /* webhook auth_token with three words */
    CHECK_INT(load(&c, "targets = { ['webhook:S'] = { endpoint = 'http://h/', "
                       "auth_token = 'one two s3cr3t' } }"),
              -1);
    CHECK(has(err, "auth_token"));
    CHECK(strstr(err, "s3cr3t") == NULL);
    config_free(&c);
    /* tconf_printable hides secrets */
    CHECK_INT(load(&c, "targets = { ['webhook:S'] = { endpoint = 'http://h/', auth_token = 's3cr3t' } }"),
              0);
    const struct target_conf *t = target(&c, "webhook:S");
    CHECK(t != NULL);
    if (t) {
        CHECK_STR(tconf_printable(t, "auth_token"), "***");
        CHECK_STR(tconf_printable(t, "endpoint"), "http://h/");
        CHECK_STR(tconf_str(t, "auth_token"), "s3cr3t");
    }
    config_free(&c);
}

/* issue 16: a misspelled variable is an error naming the closest one */
TEST(misspelled_variables_refused)
{
    clean_env();
    struct gw_config c;
    setenv("LUAGATE_QUEUE_DIRR", "/var/lib/luagate", 1);
    CHECK_INT(load(&c, NULL), -1);
    CHECK(has(err, "LUAGATE_QUEUE_DIRR"));
    CHECK(has(err, "did you mean LUAGATE_QUEUE_DIR?"));
    config_free(&c);
    unsetenv("LUAGATE_QUEUE_DIRR");
    setenv("MINIO_NOTIFY_REDDIS_ENABLE", "on", 1);
    CHECK_INT(load(&c, NULL), -1);
    CHECK(has(err, "MINIO_NOTIFY_REDDIS_ENABLE"));
    CHECK(has(err, "MINIO_NOTIFY_REDIS_"));
    config_free(&c);
    unsetenv("MINIO_NOTIFY_REDDIS_ENABLE");
    setenv("LUAGATE_NOTIFY_FIEL_ENABLE", "on", 1);
    CHECK_INT(load(&c, NULL), -1);
    CHECK(has(err, "LUAGATE_NOTIFY_FILE_"));
    config_free(&c);
    unsetenv("LUAGATE_NOTIFY_FIEL_ENABLE");
    /* the names the build and the test harness use are not settings, and pass */
    setenv("LUAGATE_SAN", "1", 1);
    setenv("LUAGATE_LUA_DIR", "/usr/share/luagate/lua", 1);
    CHECK_INT(load(&c, NULL), 0);
    if (err[0])
        printf("  # %s\n", err);
    config_free(&c);
    unsetenv("LUAGATE_SAN");
    unsetenv("LUAGATE_LUA_DIR");
}

/* issue 16: every enum and range, with a message that names the problem */
TEST(ranges_and_enums_refused)
{
    clean_env();
    struct gw_config c;
    refused("enable", "yes", "http://h/");
    CHECK_INT(load(&c, "targets = { ['webhook:V'] = { endpoint = 'http://h/', retry_min = '10s', "
                       "retry_max = '1s' } }"), -1);
    CHECK(has(err, "'retry_min' (10s) must not be above 'retry_max' (1s)"));
    config_free(&c);
    CHECK_INT(load(&c, "targets = { ['amqp:A'] = { url = 'amqp://h/', exchange = 'x', delivery_mode = 9 } }"), -1);
    CHECK(has(err, "'delivery_mode' must be 1 (transient), 2 (persistent) or 0"));
    config_free(&c);
    CHECK_INT(load(&c, "targets = { ['redis:R'] = { address = '127.0.0.1:99999', key = 'k' } }"), -1);
    CHECK(has(err, "the port 99999 is out of range (1-65535)"));
    config_free(&c);
    CHECK_INT(load(&c, "targets = { ['webhook:V'] = { endpoint = 'http://h:65536/' } }"), -1);
    CHECK(has(err, "the port 65536 is out of range (1-65535)"));
    config_free(&c);
    CHECK_INT(load(&c, "targets = { ['kafka:K'] = { brokers = 'a:9092,b:0', topic = 't' } }"), -1);
    CHECK(has(err, "the port 0 is out of range (1-65535)"));
    config_free(&c);
    CHECK_INT(load(&c, "listen = '127.0.0.1:99999'"), -1);
    CHECK(has(err, "the port 99999 is out of range"));
    config_free(&c);
    CHECK_INT(load(&c, "targets = { ['webhook:V'] = { endpoint = 'http://[::1]:8080/p' } }"), 0);
    config_free(&c);
}

/* issue 16: a scheme://user:PASS@ in an address key is refused, and the
 * refusal does not print the password */
TEST(credentials_in_addresses_refused)
{
    const char *confs[] = {
        "targets = { ['nats:N'] = { address = 'nats://lg:S3CR3T-nats@127.0.0.1:4222', subject = 's' } }",
        "targets = { ['redis:R'] = { address = 'redis://lg:S3CR3T-redis@127.0.0.1:6379', key = 'k' } }",
        "targets = { ['nsq:Q'] = { nsqd_address = 'lg:S3CR3T-nsq@127.0.0.1:4150', topic = 't' } }",
        "targets = { ['kafka:K'] = { brokers = 'a:9092,sasl://lg:S3CR3T-kafka@b:9092', topic = 't' } }",
        NULL,
    };
    clean_env();
    for (int i = 0; confs[i]; i++) {
        struct gw_config c;
        CHECK_INT(load(&c, confs[i]), -1);
        CHECK(has(err, "without a scheme or credentials"));
        CHECK(strstr(err, "S3CR3T") == NULL);
        if (strstr(err, "S3CR3T"))
            printf("  # leaked: %s\n", err);
        config_free(&c);
    }
    /* the same from MinIO's variables */
    setenv("MINIO_NOTIFY_REDIS_ENABLE_E", "on", 1);
    setenv("MINIO_NOTIFY_REDIS_ADDRESS_E", "redis://:S3CR3T-env@127.0.0.1:6379", 1);
    setenv("MINIO_NOTIFY_REDIS_KEY_E", "k", 1);
    struct gw_config c;
    CHECK_INT(load(&c, NULL), -1);
    CHECK(has(err, "redis:E"));
    CHECK(strstr(err, "S3CR3T") == NULL);
    config_free(&c);
    clean_env();
}

/* issue 16: more queue directories than one append spans: refused at load */
TEST(queue_directory_limit)
{
    clean_env();
    char text[2048];
    size_t n = (size_t)snprintf(text, sizeof text, "targets = {\n");
    for (int i = 1; i <= 9; i++)
        n += (size_t)snprintf(text + n, sizeof text - n,
                              "['file:f%d'] = { path = '-', queue_dir = '/q/%d' },\n", i, i);
    snprintf(text + n, sizeof text - n, "}\n");
    struct gw_config c;
    CHECK_INT(load(&c, text), -1);
    CHECK(has(err, "at most 8 are supported"));
    config_free(&c);
    /* eight, or nine targets sharing directories, are fine */
    char *nine = strstr(text, "['file:f9']");
    snprintf(nine, sizeof text - (size_t)(nine - text), "['file:f9'] = { path = '-', queue_dir = '/q/1' } }\n");
    CHECK_INT(load(&c, text), 0);
    if (err[0])
        printf("  # %s\n", err);
    config_free(&c);
}

int main(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/luagate-ctest.XXXXXX");
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(env_only_webhook_target);
    RUN(env_default_target_and_ids_with_underscores);
    RUN(env_file_target_uses_luagate_prefix);
    RUN(env_wins_per_key_over_the_file);
    RUN(special_env_names);
    RUN(booleans);
    RUN(unknown_keys_refused);
    RUN(key_for_an_id_that_is_not_enabled);
    RUN(missing_required_key);
    RUN(bad_values_refused);
    RUN(bad_target_names_refused);
    RUN(kind_without_a_driver);
    RUN(enable_off_drops_a_target);
    RUN(globals_defaults_file_and_env);
    RUN(unknown_global_key_refused);
    RUN(auth_header_rule);
    RUN(auth_header_long_token_kept_whole);
    RUN(settings_table);
    RUN(arn_kinds);
    RUN(secrets_never_in_errors);
    RUN(misspelled_variables_refused);
    RUN(ranges_and_enums_refused);
    RUN(credentials_in_addresses_refused);
    RUN(queue_directory_limit);
    for (int i = 0; i < nconf; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/c%d.lua", tmp, i);
        unlink(p);
    }
    rmdir(tmp);
    return unit_done();
}
