/* test_buckets.c -- the `buckets` key: bucket notification rules read from
 * the config file and validated as MinIO validates PutBucketNotification
 * (reference/minio-notify.md §2.2), every refusal naming the bucket, the
 * rule and the problem. */
#include <unistd.h>
#include "config.h"
#include "unit.h"

extern char **environ;

static char tmpdir[] = "/tmp/luagate-buckets.XXXXXX";

static const char TARGETS[] = "targets = {\n"
                              "  [\"webhook:1\"] = { endpoint = \"http://127.0.0.1:9/\" },\n"
                              "  [\"postgres:pg\"] = { connection_string = \"host=db\", table = \"t\", enable = false },\n"
                              "}\n";

/* config_load of TARGETS + buckets text; 0, or -1 with the message in err. */
static int load(const char *buckets, struct gw_config *c, char *err, size_t errlen)
{
    static int seq;
    char path[256];
    snprintf(path, sizeof path, "%s/c%d.lua", tmpdir, ++seq);
    FILE *f = fopen(path, "w");
    fprintf(f, "%sbuckets = %s\n", TARGETS, buckets);
    fclose(f);
    return config_load(c, path, err, errlen);
}

static void refused(const char *buckets, const char *want)
{
    struct gw_config c;
    char err[1024] = "";
    if (!load(buckets, &c, err, sizeof err)) {
        config_free(&c);
        unit_cur_failed = 1;
        printf("  # accepted: %s\n", buckets);
    } else if (!strstr(err, want)) {
        unit_cur_failed = 1;
        printf("  # %s\n  #   got '%s'\n  #   wanted '%s'\n", buckets, err, want);
    }
}

TEST(accepted_forms)
{
    struct gw_config c;
    char err[1024];
    int rc = load("{ images = { { ARN = \"arn:minio:sqs::1:webhook\", Events = \"put, s3:ObjectRemoved:*\", "
                  "Prefix = \"photos/\", SUFFIX = \".jpg\", Id = \"x\" },\n"
                  "  { arn = \"postgres:pg\", events = { \"get\" }, filter = { { name = \"Suffix\", value = \".png\" } } } },\n"
                  "  logs = {} }", &c, err, sizeof err);
    CHECK_INT(rc, 0);
    if (rc) {
        printf("  # %s\n", err);
        return;
    }
    CHECK(c.buckets.given);
    CHECK_INT(c.buckets.n, 2);
    const struct bucket_rule *r = &c.buckets.r[0];
    CHECK_STR(r->target, "webhook:1");
    CHECK_STR(r->id, "x");
    CHECK_STR(r->prefix, "photos/");
    CHECK_STR(r->suffix, ".jpg");
    CHECK(r->nevents == 2 && !strcmp(r->events[1], "s3:ObjectRemoved:*"));
    /* a rule may name a disabled target: kept, skipped when routing */
    CHECK_STR(c.buckets.r[1].target, "postgres:pg");
    CHECK_STR(c.buckets.r[1].suffix, ".png");
    CHECK_INT(c.ntargets, 1);
    config_free(&c);
}

TEST(minio_refusals)
{
    refused("{ images = { { arn = \"webhook:1\", events = { \"put\" } }, { arn = \"webhook:1\", events = { \"puts\" } } } }",
            "bucket 'images' rule 2: invalid event name 'puts'");
    refused("{ images = { { arn = \"webhook:1\", events = { \"s3:*\" } } } }", "invalid event name 's3:*'");
    refused("{ images = { { arn = \"webhook:1\", events = { \"s3:Scanner:*\" } } } }", "invalid event name 's3:Scanner:*'");
    refused("{ images = { { arn = \"webhook:1\", events = { \"S3:ObjectCreated:Put\" } } } }", "invalid event name");
    refused("{ images = { { arn = \"webhook:1\", events = {} } } }", "bucket 'images' rule 1: missing event name(s)");
    refused("{ images = { { arn = \"webhook:1\", events = { \"put\", \"put\" } } } }", "duplicate event name 'put'");
    refused("{ images = { { arn = \"webhook:1\", events = \"put\", filter = { { name = \"regex\", value = \"x\" } } } } }",
            "invalid filter name 'regex': a filter rule name must be either prefix or suffix");
    refused("{ images = { { arn = \"webhook:1\", events = \"put\", prefix = \"a\", filter = { { name = \"PREFIX\", value = \"b\" } } } } }",
            "more than one prefix in filter rule");
    refused("{ images = { { arn = \"webhook:1\", events = \"put\", suffix = \"a\", Suffix = \"b\" } } }",
            "more than one suffix in filter rule");
    refused("{ images = { { id = \"d\", arn = \"webhook:1\", events = \"put\" }, { id = \"d\", arn = \"webhook:1\", events = \"put\" } } }",
            "bucket 'images' rule 2 (id 'd'): duplicate of rule 1");
    refused("{ images = { { arn = \"arn:minio:sqs::1\", events = \"put\" } } }", "invalid ARN 'arn:minio:sqs::1'");
    refused("{ images = { { arn = \"arn:minio:sqs:::webhook\", events = \"put\" } } }", "invalid ARN");
    refused("{ images = { { arn = \"arn:aws:sqs::1:webhook\", events = \"put\" } } }", "invalid ARN");
    refused("{ images = { { arn = \"arn:minio:sqs::1:webhook:x\", events = \"put\" } } }", "invalid ARN");
    refused("{ images = { { arn = \"arn:minio:sns::1:webhook\", events = \"put\" } } }", "Topic or CloudFunction");
    refused("{ images = { { Topic = \"arn:minio:sns::1:x\", events = \"put\" } } }", "does not support Topic or Cloud Function");
    refused("{ images = { { arn = \"arn:minio:sqs::2:webhook\", events = \"put\" } } }",
            "bucket 'images' rule 1: ARN 'arn:minio:sqs::2:webhook' not found: no target webhook:2 is configured");
    refused("{ images = { { arn = \"webhook:7\", events = \"put\" } } }", "ARN 'webhook:7' not found");
    refused("{ images = { { arn = \"smtp:1\", events = \"put\" } } }", "'smtp:1' is neither an ARN");
    refused("{ images = { { events = \"put\" } } }", "bucket 'images' rule 1: no 'arn'");
}

TEST(shape_refusals)
{
    refused("\"images\"", "key 'buckets' must be a table");
    refused("{ \"images\" }", "keyed by bucket name");
    refused("{ images = { arn = \"webhook:1\" } }", "bucket 'images': its rules are a list");
    refused("{ images = { \"webhook:1\" } }", "bucket 'images' rule 1: a rule is a table");
    refused("{ images = { { arn = \"webhook:1\", events = \"put\", colour = \"red\" } } }", "unknown key 'colour'");
    refused("{ images = { { arn = \"webhook:1\", events = { 1 } } } }", "events must be a list of strings");
    refused("{ images = { { arn = {}, events = \"put\" } } }", "arn must be a string");
    refused("{ images = { { arn = \"webhook:1\", events = \"put\", [1] = 2 } } }", "keys of a rule are names");
    refused("{ [string.rep(\"b\", 64)] = { { arn = \"webhook:1\", events = \"put\" } } }", "is not a bucket name");
}

/* A rule may name a target that only the environment configures. */
TEST(targets_from_environment)
{
    setenv("MINIO_NOTIFY_WEBHOOK_ENABLE_ENV", "on", 1);
    setenv("MINIO_NOTIFY_WEBHOOK_ENDPOINT_ENV", "http://127.0.0.1:9/env", 1);
    struct gw_config c;
    char err[1024];
    int rc = load("{ b = { { arn = \"arn:minio:sqs::ENV:webhook\", events = \"put\" } } }", &c, err, sizeof err);
    CHECK_INT(rc, 0);
    if (rc)
        printf("  # %s\n", err);
    else
        config_free(&c);
    unsetenv("MINIO_NOTIFY_WEBHOOK_ENABLE_ENV");
    unsetenv("MINIO_NOTIFY_WEBHOOK_ENDPOINT_ENV");
}

int main(void)
{
    for (char **e = environ; *e; e++)
        if (!strncmp(*e, "MINIO_NOTIFY_", 13) || !strncmp(*e, "LUAGATE_", 8)) {
            char name[256];
            snprintf(name, sizeof name, "%.*s", (int)strcspn(*e, "="), *e);
            unsetenv(name);
            e = environ - 1;
        }
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(accepted_forms);
    RUN(minio_refusals);
    RUN(shape_refusals);
    RUN(targets_from_environment);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd))
        printf("  # could not remove %s\n", tmpdir);
    return unit_done();
}
