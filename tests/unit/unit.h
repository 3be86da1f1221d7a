/* unit.h -- the tiny test harness of the C unit tests.
 *
 *   TEST(name) { CHECK(x == 1); CHECK_STR(a, "b"); }
 *   int main(void) { RUN(name); return unit_done(); }
 *
 * Each test prints "ok - name" or "not ok - name" with the failed checks;
 * unit_done() prints "N passed, N failed" and returns the exit code. */
#ifndef LUAGATE_UNIT_H
#define LUAGATE_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

static int unit_passed, unit_failed, unit_cur_failed;

#define TEST(name) static void test_##name(void)
#define RUN(name)                                                                    \
    do {                                                                             \
        unit_cur_failed = 0;                                                         \
        test_##name();                                                               \
        if (unit_cur_failed)                                                         \
            unit_failed++, printf("not ok - %s\n", #name);                           \
        else                                                                         \
            unit_passed++, printf("ok - %s\n", #name);                               \
        fflush(stdout);                                                              \
    } while (0)
#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            unit_cur_failed = 1;                                                     \
            printf("  # %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);      \
        }                                                                            \
    } while (0)
#define CHECK_STR(a, b)                                                              \
    do {                                                                             \
        const char *a_ = (a), *b_ = (b);                                             \
        if (!a_ || !b_ || strcmp(a_, b_)) {                                          \
            unit_cur_failed = 1;                                                     \
            printf("  # %s:%d: '%s' != '%s'\n", __FILE__, __LINE__, a_ ? a_ : "(null)", \
                   b_ ? b_ : "(null)");                                              \
        }                                                                            \
    } while (0)
#define CHECK_INT(a, b)                                                              \
    do {                                                                             \
        long long a_ = (long long)(a), b_ = (long long)(b);                          \
        if (a_ != b_) {                                                              \
            unit_cur_failed = 1;                                                     \
            printf("  # %s:%d: %s = %lld, expected %lld\n", __FILE__, __LINE__, #a,  \
                   a_, b_);                                                          \
        }                                                                            \
    } while (0)

static inline int unit_done(void)
{
    printf("%d passed, %d failed\n", unit_passed, unit_failed);
    return unit_failed ? 1 : 0;
}

/* The sample events of examples/events/minio-webhook.jsonl, with the
 * pieces drivers need, cut from the original bytes (no re-encoding). */
struct sample {
    char *envelope;   /* the whole line: MinIO's webhook/amqp/kafka... body */
    char *records;    /* {"Records":[<record>]} */
    char *record;     /* <record> */
    char *event_name; /* EventName */
    char *key;        /* Key: bucket/object, unescaped */
    char *event_time; /* record eventTime */
};

static inline char *unit_field(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return strdup(cJSON_IsString(v) ? v->valuestring : "");
}

/* Load up to max samples; returns the count (0 and a message if missing). */
static inline size_t unit_samples(struct sample *out, size_t max)
{
    const char *path = getenv("LUAGATE_EVENTS");
    if (!path)
        path = "examples/events/minio-webhook.jsonl";
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("  # cannot open %s (set LUAGATE_EVENTS)\n", path);
        return 0;
    }
    size_t n = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while (n < max && (len = getline(&line, &cap, f)) > 0) {
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        if (!len)
            continue;
        struct sample *s = &out[n++];
        s->envelope = strdup(line);
        const char *r = strstr(line, "\"Records\":[");
        r += strlen("\"Records\":[");
        size_t rlen = (size_t)(line + len - 2 - r); /* drop the final "]}" */
        s->record = strndup(r, rlen);
        s->records = malloc(rlen + 16);
        sprintf(s->records, "{\"Records\":[%s]}", s->record);
        cJSON *doc = cJSON_Parse(line);
        s->event_name = unit_field(doc, "EventName");
        s->key = unit_field(doc, "Key");
        cJSON *rec = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "Records"), 0);
        s->event_time = unit_field(rec, "eventTime");
        cJSON_Delete(doc);
    }
    free(line);
    fclose(f);
    return n;
}

static inline void unit_samples_free(struct sample *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(s[i].envelope);
        free(s[i].records);
        free(s[i].record);
        free(s[i].event_name);
        free(s[i].key);
        free(s[i].event_time);
    }
}

#endif
