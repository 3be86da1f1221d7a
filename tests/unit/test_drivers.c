/* test_drivers.c -- every driver against the one list of kinds
 * (src/kinds.h): the registry holds each line, the driver is linked under
 * the line's name and says so, its struct and key table are whole, and
 * its payload shapes and variables are MinIO's. */
#include <ctype.h>
#include "driver.h"
#include "targetconf.h"
#include "unit.h"

#define KIND(name, arn_kind, env_kind) extern const struct driver name##_driver;
#include "kinds.h"
#undef KIND

struct line {
    const char *kind, *arn_kind, *env_kind;
    const struct driver *drv;
};

static const struct line lines[] = {
#define KIND(name, arn_kind, env_kind) { #name, arn_kind, env_kind, &name##_driver },
#include "kinds.h"
#undef KIND
};
#define NLINES (sizeof lines / sizeof lines[0])

TEST(registry_is_the_list)
{
    size_t n;
    const struct kind_info *all = driver_kinds(&n);
    CHECK_INT(n, NLINES);
    for (size_t i = 0; i < NLINES && i < n; i++) {
        const struct line *l = &lines[i];
        CHECK_STR(all[i].kind, l->kind);
        CHECK_STR(all[i].arn_kind, l->arn_kind);
        CHECK_STR(all[i].env_kind, l->env_kind);
        CHECK(all[i].drv == l->drv);
        CHECK(driver_kind(l->kind) == &all[i]);
        CHECK(driver_kind(l->arn_kind) == &all[i]);
        CHECK(driver_find(l->kind) == l->drv);
        for (size_t j = 0; j < i; j++) /* names are unique, in either spelling */
            CHECK(strcmp(l->kind, lines[j].arn_kind) && strcmp(l->arn_kind, lines[j].kind));
    }
    CHECK(driver_kind("nosuch") == NULL);
}

static int key_name_ok(const char *s)
{
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
            return 0;
    return 1;
}

static void check_keys(const struct line *l)
{
    const struct key_spec *keys = l->drv->keys;
    CHECK(keys != NULL);
    for (const struct key_spec *s = keys; s && s->name; s++) {
        if (!key_name_ok(s->name) || !s->help || !*s->help) {
            printf("  # %s: key '%s' badly named or without help\n", l->kind, s->name);
            CHECK(0);
        }
        for (const struct key_spec *t = keys; t < s; t++)
            CHECK(strcmp(s->name, t->name));
        for (const char *e = s->env; e && *e; e++)
            CHECK(isupper((unsigned char)*e) || isdigit((unsigned char)*e) || *e == '_');
    }
}

TEST(drivers_are_whole)
{
    for (size_t i = 0; i < NLINES; i++) {
        const struct driver *d = lines[i].drv;
        CHECK(d != NULL);
        if (!d)
            continue;
        CHECK_STR(d->kind, lines[i].kind);
        CHECK(d->open && d->send && d->health && d->close);
        CHECK(d->max_batch > 0);
        check_keys(&lines[i]);
    }
}

/* What MinIO sends each kind when the script sends the event itself. */
TEST(payload_shapes)
{
    static const struct {
        const char *kind;
        enum shape ns, access;
    } want[] = {
        { "elasticsearch", SHAPE_RECORDS_NL, SHAPE_RECORDS_NL },
        { "redis", SHAPE_RECORDS, SHAPE_REDIS_ACCESS },
        { "mysql", SHAPE_RECORDS, SHAPE_RECORDS },
        { "postgresql", SHAPE_RECORDS, SHAPE_RECORDS },
    };
    for (size_t i = 0; i < NLINES; i++) {
        enum shape ns = SHAPE_ENVELOPE, access = SHAPE_ENVELOPE;
        for (size_t j = 0; j < sizeof want / sizeof want[0]; j++)
            if (driver_kind(want[j].kind) == driver_kind(lines[i].kind))
                ns = want[j].ns, access = want[j].access;
        CHECK_INT(driver_shape(lines[i].drv, ""), ns);
        CHECK_INT(driver_shape(lines[i].drv, "namespace"), ns);
        CHECK_INT(driver_shape(lines[i].drv, "Access"), access);
    }
    CHECK_INT(driver_shape(NULL, "access"), SHAPE_ENVELOPE);
}

TEST(environment_names)
{
    char env[128];
    static const struct key_spec brokers = { "brokers", KEY_CSV, NULL, 0, NULL, "x" };
    driver_env_name(driver_kind("kafka"), &brokers, env, sizeof env);
    CHECK_STR(env, "MINIO_NOTIFY_KAFKA_BROKERS");
    driver_env_name(driver_kind("postgresql"), NULL, env, sizeof env);
    CHECK_STR(env, "MINIO_NOTIFY_POSTGRES_");
    driver_env_name(driver_kind("file"), NULL, env, sizeof env);
    CHECK_STR(env, "LUAGATE_NOTIFY_FILE_");
    CHECK(!driver_is_minio(driver_kind("file")));
    for (size_t i = 0; i < NLINES; i++) {
        const struct kind_info *k = driver_kind(lines[i].kind);
        const char *p = driver_env_prefix(k);
        size_t n = strlen(p);
        CHECK(n > 8 && !strcmp(p + n - 8, "_NOTIFY_"));
        /* a kind MinIO does not have says what it is in the docs */
        CHECK(driver_is_minio(k) || (k->drv->about && *k->drv->about));
    }
}

/* Every kind with a format key takes namespace or access, and nothing else. */
TEST(access_format)
{
    for (size_t i = 0; i < NLINES; i++) {
        const struct kind_info *k = driver_kind(lines[i].kind);
        struct target_conf *c = tconf_new(k, "1");
        if (!c || !tconf_spec(c, "format")) {
            tconf_free(c);
            continue;
        }
        int access = -1;
        char err[256] = "";
        CHECK_INT(tconf_access_format(c, &access, err, sizeof err), 0);
        CHECK_INT(access, 0);
        tconf_set(c, "format", "ACCESS");
        CHECK_INT(tconf_access_format(c, &access, err, sizeof err), 0);
        CHECK_INT(access, 1);
        tconf_set(c, "format", "json");
        CHECK_INT(tconf_access_format(c, &access, err, sizeof err), -1);
        char want[128];
        snprintf(want, sizeof want, "%s:1: key 'format' must be namespace or access, not 'json'", k->kind);
        CHECK(!strncmp(err, want, strlen(want)));
        tconf_free(c);
    }
}

int main(void)
{
    RUN(registry_is_the_list);
    RUN(drivers_are_whole);
    RUN(payload_shapes);
    RUN(environment_names);
    RUN(access_format);
    return unit_done();
}
