/* test_quarantine.c -- the quarantine list (src/quarantine.c) and the event
 * identity it is keyed by (src/heartbeat.c). */
#include <fcntl.h>
#include <unistd.h>
#include "heartbeat.h"
#include "log.h"
#include "quarantine.h"
#include "unit.h"

static char dir[64];

static void remove_dir(void)
{
    char path[128];
    if (!*dir)
        return;
    snprintf(path, sizeof path, "%s/quarantine", dir);
    unlink(path);
    rmdir(dir);
    *dir = 0;
}

static void fresh_dir(void)
{
    remove_dir();
    snprintf(dir, sizeof dir, "/tmp/lg-quarantine-XXXXXX");
    if (!mkdtemp(dir))
        abort();
}

static void append_raw(const char *text)
{
    char path[128];
    snprintf(path, sizeof path, "%s/quarantine", dir);
    FILE *f = fopen(path, "a");
    if (!f)
        abort();
    fputs(text, f);
    fclose(f);
}

TEST(event_identity_is_stable_and_never_zero)
{
    const char *a = "{\"s3\":{\"object\":{\"key\":\"a.jpg\"}}}";
    const char *b = "{\"s3\":{\"object\":{\"key\":\"b.jpg\"}}}";
    CHECK(heartbeat_event_id(a, strlen(a)) == heartbeat_event_id(a, strlen(a)));
    CHECK(heartbeat_event_id(a, strlen(a)) != heartbeat_event_id(b, strlen(b)));
    CHECK(heartbeat_event_id("", 0) != 0);
}

TEST(empty_list_quarantines_nothing)
{
    fresh_dir();
    char err[256];
    CHECK(quarantine_load(dir, err, sizeof err) == 0);
    int done = 0;
    CHECK(quarantine_count() == 0);
    CHECK(quarantine_reason(42, &done) == NULL);
    CHECK(quarantine_dead_lettered(42) == -1);
}

TEST(added_events_are_found_with_their_reason_after_load)
{
    fresh_dir();
    char err[256];
    CHECK(quarantine_add(dir, 0x1234, "runaway: routing took longer than 2s", err, sizeof err) == 0);
    CHECK(quarantine_add(dir, 0xfeedfacecafebeefULL, "the script crashed the worker: SIGSEGV", err, sizeof err) == 0);
    CHECK(quarantine_load(dir, err, sizeof err) == 0);
    CHECK(quarantine_count() == 2);
    int done = 1;
    CHECK_STR(quarantine_reason(0x1234, &done), "runaway: routing took longer than 2s");
    CHECK(done == 0);
    CHECK_STR(quarantine_reason(0xfeedfacecafebeefULL, &done), "the script crashed the worker: SIGSEGV");
    CHECK(quarantine_reason(0x1235, &done) == NULL);
}

TEST(dead_lettered_once_and_remembered_across_loads)
{
    fresh_dir();
    char err[256];
    CHECK(quarantine_add(dir, 7, "runaway", err, sizeof err) == 0);
    CHECK(quarantine_load(dir, err, sizeof err) == 0);
    CHECK(quarantine_dead_lettered(7) == 0);
    CHECK(quarantine_dead_lettered(7) == 1); /* a second time: someone did already */
    CHECK(quarantine_load(dir, err, sizeof err) == 0);
    int done = 0;
    CHECK(quarantine_reason(7, &done) != NULL);
    CHECK(done == 1);
}

TEST(garbage_and_torn_lines_are_skipped)
{
    fresh_dir();
    char err[256];
    append_raw("not a line at all\n0000000000000000 Q zero is no event\nzzzzzzzzzzzzzzzz Q x\n");
    CHECK(quarantine_add(dir, 99, "ok", err, sizeof err) == 0);
    append_raw("00000000000000"); /* torn by a crash mid-write */
    CHECK(quarantine_load(dir, err, sizeof err) == 0);
    CHECK(quarantine_count() == 1);
    int done;
    CHECK_STR(quarantine_reason(99, &done), "ok");
}

TEST(a_reason_stays_one_line)
{
    fresh_dir();
    char err[256];
    CHECK(quarantine_add(dir, 5, "two\nlines", err, sizeof err) == 0);
    CHECK(quarantine_add(dir, 6, "next", err, sizeof err) == 0);
    CHECK(quarantine_load(dir, err, sizeof err) == 0);
    int done;
    CHECK_STR(quarantine_reason(5, &done), "two lines");
    CHECK_STR(quarantine_reason(6, &done), "next");
}

TEST(many_events_grow_the_table)
{
    fresh_dir();
    char err[256];
    for (uint64_t i = 1; i <= 300; i++)
        if (quarantine_add(dir, i * 0x9e3779b97f4a7c15ULL, "r", err, sizeof err))
            CHECK(0);
    CHECK(quarantine_load(dir, err, sizeof err) == 0);
    CHECK(quarantine_count() == 300);
    int done, found = 0;
    for (uint64_t i = 1; i <= 300; i++)
        found += quarantine_reason(i * 0x9e3779b97f4a7c15ULL, &done) != NULL;
    CHECK(found == 300);
}

TEST(an_unwritable_directory_is_a_clear_error)
{
    char err[256] = "";
    CHECK(quarantine_add("/proc/no-such-dir/q", 1, "r", err, sizeof err) == -1);
    CHECK(strstr(err, "/proc/no-such-dir/q") != NULL);
}

int main(void)
{
    log_init(0, LOG_ERROR);
    RUN(event_identity_is_stable_and_never_zero);
    RUN(empty_list_quarantines_nothing);
    RUN(added_events_are_found_with_their_reason_after_load);
    RUN(dead_lettered_once_and_remembered_across_loads);
    RUN(garbage_and_torn_lines_are_skipped);
    RUN(a_reason_stays_one_line);
    RUN(many_events_grow_the_table);
    RUN(an_unwritable_directory_is_a_clear_error);
    quarantine_free();
    remove_dir();
    return unit_done();
}
