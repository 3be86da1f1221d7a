/* test_dlq.c -- dead-letter selections, listing and taking entries out
 * (src/dlq.c). */
#include <cjson/cJSON.h>
#include <unistd.h>
#include "dlq.h"
#include "log.h"
#include "unit.h"

static char dir[64];

static void fresh_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/lg-dlq-XXXXXX");
    if (!mkdtemp(dir))
        abort();
}

static void remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd))
        printf("  # could not remove %s\n", dir);
}

/* n entries of target t: keys b/k01.jpg .. (bucket b), reasons "HTTP 400 #i" */
static void fill(const char *t, const char *bucket, int n)
{
    char err[256];
    for (int i = 1; i <= n; i++) {
        char key[64], why[64], payload[64];
        snprintf(key, sizeof key, "%s/k%02d.jpg", bucket, i);
        snprintf(why, sizeof why, "HTTP %d #%d", i % 2 ? 400 : 500, i);
        snprintf(payload, sizeof payload, "{\"n\":%d}", i);
        struct msg m = { .payload = payload, .payload_len = strlen(payload), .event_name = "s3:ObjectCreated:Put",
                         .key = key, .event_time = "2026-11-21T08:00:00Z" };
        if (dlq_append(dir, t, &m, why, 1, err, sizeof err))
            printf("  # %s\n", err);
    }
}

static int selected(const char *t, const struct dlq_sel *s)
{
    char err[256];
    struct buf b = { 0 };
    if (dlq_list(dir, t, s, &b, err, sizeof err))
        return -1;
    cJSON *r = cJSON_ParseWithLength(b.p, b.len);
    int n = r ? cJSON_GetObjectItem(r, "selected")->valueint : -2;
    cJSON_Delete(r);
    buf_free(&b);
    return n;
}

TEST(ids_parse_and_bad_ones_are_named)
{
    struct dlq_sel s = { 0 };
    char err[256] = "";
    CHECK(dlq_sel_set(&s, "id", "7", err, sizeof err) == 0 && s.id_lo == 7 && s.id_hi == 7);
    CHECK(dlq_sel_set(&s, "id", "3-9", err, sizeof err) == 0 && s.id_lo == 3 && s.id_hi == 9);
    CHECK(dlq_sel_set(&s, "id", "4-", err, sizeof err) == 0 && s.id_lo == 4 && s.id_hi == 0);
    CHECK(dlq_sel_set(&s, "id", "-5", err, sizeof err) == 0 && s.id_lo == 1 && s.id_hi == 5);
    const char *bad[] = { "0", "x", "9-3", "1-2-3", "", "-", "3x", "1-x" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        *err = 0;
        CHECK(dlq_sel_set(&s, "id", bad[i], err, sizeof err) == -1);
        CHECK(strstr(err, "id:") != NULL);
    }
    CHECK(dlq_sel_set(&s, "colour", "red", err, sizeof err) == -1 && strstr(err, "colour"));
}

TEST(a_selection_survives_the_form_round_trip)
{
    struct dlq_sel s = { 0 }, back = { 0 };
    char err[256];
    struct buf f = { 0 };
    CHECK(dlq_sel_set(&s, "id", "2-", err, sizeof err) == 0);
    CHECK(dlq_sel_set(&s, "reason", "*HTTP 4?? & more=%*", err, sizeof err) == 0);
    CHECK(dlq_sel_set(&s, "key", "a b/ü.jpg", err, sizeof err) == 0);
    CHECK(dlq_sel_form(&s, &f) == 0 && f.p && strlen(f.p) == f.len);
    CHECK(dlq_sel_parse_form(&back, f.p, f.len, err, sizeof err) == 0);
    CHECK(back.id_lo == 2 && back.id_hi == 0);
    CHECK_STR(back.reason, s.reason);
    CHECK_STR(back.key, s.key);
    buf_free(&f);
    struct dlq_sel none = { 0 };
    CHECK(dlq_sel_form(&none, &f) == 0 && f.p && *f.p == 0);
    buf_free(&f);
}

TEST(selections_narrow_the_list)
{
    fresh_dir();
    fill("webhook:1", "photos", 12);
    fill("webhook:1", "docs", 3);
    struct dlq_sel s = { 0 };
    char err[256];
    CHECK_INT(selected("webhook:1", &s), 15);
    CHECK_INT(selected("webhook:9", &s), 0); /* no file: no dead letters */
    dlq_sel_set(&s, "id", "2-4", err, sizeof err);
    CHECK_INT(selected("webhook:1", &s), 3);
    s = (struct dlq_sel){ 0 };
    dlq_sel_set(&s, "bucket", "docs", err, sizeof err);
    CHECK_INT(selected("webhook:1", &s), 3);
    s = (struct dlq_sel){ 0 };
    dlq_sel_set(&s, "key", "k1", err, sizeof err); /* a prefix: k10 k11 k12 */
    CHECK_INT(selected("webhook:1", &s), 3);
    dlq_sel_set(&s, "key", "k0[1-3]*", err, sizeof err); /* a glob, both buckets */
    CHECK_INT(selected("webhook:1", &s), 6);
    s = (struct dlq_sel){ 0 };
    dlq_sel_set(&s, "reason", "HTTP 500", err, sizeof err); /* a substring */
    CHECK_INT(selected("webhook:1", &s), 7);
    dlq_sel_set(&s, "since", "2999", err, sizeof err);
    CHECK_INT(selected("webhook:1", &s), 0);
    remove_dir();
}

static int count_fn(void *arg, cJSON *const *e, size_t n, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    int *seen = arg;
    (void)e;
    *seen = (int)n;
    return 0;
}

static int refuse_fn(void *arg, cJSON *const *e, size_t n, char *err, size_t errlen)
{
    (void)arg, (void)e, (void)n;
    snprintf(err, errlen, "refused");
    return -1;
}

/* An append while the selected entries are being handled stays. */
static int append_fn(void *arg, cJSON *const *e, size_t n, char *err, size_t errlen)
{
    (void)arg, (void)e, (void)n, (void)err, (void)errlen;
    fill("webhook:1", "late", 1);
    return 0;
}

TEST(take_removes_the_selected_and_keeps_the_rest)
{
    fresh_dir();
    fill("webhook:1", "photos", 6);
    struct dlq_sel s = { 0 }, all = { 0 };
    char err[256];
    size_t taken = 9;
    int seen[16] = { 0 };
    dlq_sel_set(&s, "id", "2-3", err, sizeof err);
    CHECK(dlq_take(dir, "webhook:1", &s, refuse_fn, NULL, &taken, err, sizeof err) == -1);
    CHECK_STR(err, "refused");
    CHECK_INT(selected("webhook:1", &all), 6); /* a refused take keeps everything */
    CHECK(dlq_take(dir, "webhook:1", &s, count_fn, seen, &taken, err, sizeof err) == 0);
    CHECK_INT(taken, 2);
    CHECK_INT(seen[0], 2);
    CHECK_INT(selected("webhook:1", &all), 4);
    s = (struct dlq_sel){ 0 };
    dlq_sel_set(&s, "id", "1", err, sizeof err);
    CHECK(dlq_take(dir, "webhook:1", &s, append_fn, NULL, &taken, err, sizeof err) == 0);
    CHECK_INT(selected("webhook:1", &all), 4); /* 4 - 1 + the one appended meanwhile */
    s = (struct dlq_sel){ 0 };
    dlq_sel_set(&s, "bucket", "late", err, sizeof err);
    CHECK_INT(selected("webhook:1", &s), 1);
    CHECK(dlq_take(dir, "webhook:9", &all, count_fn, seen, &taken, err, sizeof err) == 0 && taken == 0);
    remove_dir();
}

int main(void)
{
    log_init(0, LOG_ERROR);
    RUN(ids_parse_and_bad_ones_are_named);
    RUN(a_selection_survives_the_form_round_trip);
    RUN(selections_narrow_the_list);
    RUN(take_removes_the_selected_and_keeps_the_rest);
    return unit_done();
}
