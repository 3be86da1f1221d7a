/* test_queue.c -- the durable queue: round trips, readers sharing one
 * journal, limits, group commit visibility, reopen, crash recovery.
 * Each test works in a fresh mkdtemp() directory it removes at the end. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "unit.h"
#include "queue.h"
#include "queue_int.h"
#include <pthread.h>

static char err[512];

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static char *tmpdir(void)
{
    char t[] = "/tmp/luagate-qtest.XXXXXX";
    char *d = mkdtemp(t);
    return d ? strdup(d) : NULL;
}

static void rmdir_all(char *dir)
{
    if (dir)
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

static void seg_file(const char *dir, unsigned long long seg, char *out, size_t len)
{
    snprintf(out, len, "%s/journal/%020llu.seg", dir, seg);
}

static long long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) ? -1 : (long long)sb.st_size;
}

static long long seg1_size(const char *dir)
{
    char p[4096];
    seg_file(dir, 1, p, sizeof p);
    return file_size(p);
}

/* Open dir with the named readers (NULL-terminated), counted. */
static struct queue *qopen(const char *dir, struct qreader **rs, const char *const *names,
                           uint64_t limit)
{
    struct queue *q = queue_open(dir, err, sizeof err);
    if (!q) {
        printf("  # queue_open: %s\n", err);
        return NULL;
    }
    for (size_t i = 0; names[i]; i++)
        rs[i] = queue_reader(q, names[i], limit);
    queue_start(q);
    return q;
}

/* Append one record for r: payload "<tag>", key "bkt/<tag>". */
static int put(struct queue *q, struct qreader *r, const char *tag)
{
    char key[128];
    snprintf(key, sizeof key, "bkt/%s", tag);
    struct qrec rec = { 0 };
    rec.to = r;
    rec.payload[0] = (struct iovec){ (void *)tag, strlen(tag) };
    rec.npayload = 1;
    rec.event_name = "s3:ObjectCreated:Put";
    rec.key = key;
    rec.event_time = "2026-11-21T08:00:02.653Z";
    uint64_t ticket;
    return queue_append(q, &rec, 1, &ticket, err, sizeof err);
}

/* One peek (up to 64) and the payloads joined by ','.  A peek may stop
 * early (at the end of the reader's window): use drain_all to get all. */
static char *drain_text(struct qreader *r, size_t *n, int ack)
{
    struct msg m[64];
    int got = queue_peek(r, m, 64, 0);
    static char out[8192];
    out[0] = 0;
    size_t used = 0;
    for (int i = 0; i < got; i++)
        used += (size_t)snprintf(out + used, sizeof out - used, "%s%.*s", i ? "," : "",
                                 (int)m[i].payload_len, m[i].payload);
    if (n)
        *n = got < 0 ? 0 : (size_t)got;
    if (ack && got > 0)
        queue_ack(r, (size_t)got);
    return out;
}

/* Peek repeatedly (a peek may stop early at a window boundary) and ack. */
static char *drain_all(struct qreader *r, size_t *total)
{
    static char all[16384];
    all[0] = 0;
    size_t used = 0, t = 0, n;
    for (int round = 0; round < 100; round++) {
        char *s = drain_text(r, &n, 1);
        if (!n)
            break;
        used += (size_t)snprintf(all + used, sizeof all - used, "%s%s", t ? "," : "", s);
        t += n;
    }
    if (total)
        *total = t;
    return all;
}

/* Peek one message at a time (so no peek spans two segments) and ack. */
static char *drain_one_by_one(struct qreader *r)
{
    static char all[4096];
    all[0] = 0;
    size_t used = 0;
    struct msg m[1];
    for (int i = 0; i < 100 && queue_peek(r, m, 1, 0) == 1; i++) {
        used += (size_t)snprintf(all + used, sizeof all - used, "%s%.*s", i ? "," : "",
                                 (int)m[0].payload_len, m[0].payload);
        queue_ack(r, 1);
    }
    return all;
}

TEST(round_trip_all_fields)
{
    char *dir = tmpdir();
    struct qreader *r[1];
    struct queue *q = qopen(dir, r, (const char *[]){ "webhook:A", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    struct qrec recs[2];
    memset(recs, 0, sizeof recs);
    recs[0].to = r[0];
    recs[0].payload[0] = (struct iovec){ "{\"a\":", 5 };
    recs[0].payload[1] = (struct iovec){ "1", 1 };
    recs[0].payload[2] = (struct iovec){ "", 0 };
    recs[0].payload[3] = (struct iovec){ "}", 1 };
    recs[0].npayload = 4;
    recs[0].event_name = "s3:ObjectCreated:Put";
    recs[0].key = "images/photos/a b.jpg";
    recs[0].event_time = "2026-11-21T08:00:02.653Z";
    recs[0].opts = NULL;
    recs[0].op = OP_UPSERT;
    recs[1].to = r[0];
    recs[1].payload[0] = (struct iovec){ "second", 6 };
    recs[1].npayload = 1;
    recs[1].event_name = "s3:ObjectRemoved:Delete";
    recs[1].key = "images/x";
    recs[1].event_time = "";
    recs[1].opts = "{\"topic\":\"t\"}";
    recs[1].op = OP_DELETE;
    uint64_t ticket = 0, before = (uint64_t)time(NULL) * 1000;
    CHECK_INT(queue_append(q, recs, 2, &ticket, err, sizeof err), 0);
    CHECK(ticket > 0);
    CHECK_INT(queue_len(r[0]), 2);
    CHECK_INT(queue_sync(q), 0);
    CHECK(queue_durable(q) >= ticket);
    CHECK(!queue_failed(q, ticket));
    struct msg m[4];
    int n = queue_peek(r[0], m, 4, 0);
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK_INT(m[0].payload_len, 7);
        CHECK(!memcmp(m[0].payload, "{\"a\":1}", 7));
        CHECK_STR(m[0].event_name, "s3:ObjectCreated:Put");
        CHECK_STR(m[0].key, "images/photos/a b.jpg");
        CHECK_STR(m[0].event_time, "2026-11-21T08:00:02.653Z");
        CHECK(m[0].opts == NULL);
        CHECK_INT(m[0].op, OP_UPSERT);
        CHECK_INT(m[1].payload_len, 6);
        CHECK(!memcmp(m[1].payload, "second", 6));
        CHECK_STR(m[1].event_name, "s3:ObjectRemoved:Delete");
        CHECK_STR(m[1].key, "images/x");
        CHECK_STR(m[1].event_time, "");
        CHECK_STR(m[1].opts, "{\"topic\":\"t\"}");
        CHECK_INT(m[1].op, OP_DELETE);
        CHECK(queue_peek_time(r[0], 0) >= before);
        CHECK(queue_peek_time(r[0], 0) <= (uint64_t)time(NULL) * 1000 + 1000);
    }
    /* peek does not consume */
    CHECK_INT(queue_peek(r[0], m, 4, 0), 2);
    CHECK_INT(queue_ack(r[0], 1), 0);
    CHECK_INT(queue_len(r[0]), 1);
    n = queue_peek(r[0], m, 4, 0);
    CHECK_INT(n, 1);
    if (n == 1)
        CHECK_STR(m[0].key, "images/x");
    CHECK_INT(queue_ack(r[0], 1), 0);
    CHECK_INT(queue_len(r[0]), 0);
    CHECK_INT(queue_peek(r[0], m, 4, 0), 0);
    CHECK_STR(queue_reader_target(r[0]), "webhook:A");
    CHECK_STR(queue_dir(q), dir);
out:
    queue_close(q);
    rmdir_all(dir);
}

TEST(order_preserved_and_peek_max)
{
    char *dir = tmpdir();
    struct qreader *r[1];
    struct queue *q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    char tag[16];
    for (int i = 0; i < 50; i++) {
        snprintf(tag, sizeof tag, "%d", i);
        CHECK_INT(put(q, r[0], tag), 0);
    }
    queue_sync(q);
    struct msg m[8];
    int expect = 0, rounds = 0;
    while (rounds++ < 20) {
        int n = queue_peek(r[0], m, 7, 0);
        if (n <= 0)
            break;
        CHECK(n <= 7);
        for (int i = 0; i < n; i++) {
            snprintf(tag, sizeof tag, "%d", expect++);
            CHECK(m[i].payload_len == strlen(tag) && !memcmp(m[i].payload, tag, strlen(tag)));
        }
        /* ack only part of the peek: the rest comes again */
        int k = n > 3 ? 3 : n;
        queue_ack(r[0], (size_t)k);
        expect -= n - k;
    }
    CHECK_INT(expect, 50);
    CHECK_INT(queue_len(r[0]), 0);
out:
    queue_close(q);
    rmdir_all(dir);
}

TEST(two_readers_share_one_journal)
{
    char *dir = tmpdir();
    struct qreader *r[2];
    struct queue *q = qopen(dir, r, (const char *[]){ "kafka:A", "redis:B", NULL }, 0);
    CHECK(q && r[0] && r[1]);
    if (!q || !r[0] || !r[1])
        goto out;
    CHECK_INT(put(q, r[0], "a1"), 0);
    CHECK_INT(put(q, r[1], "b1"), 0);
    CHECK_INT(put(q, r[0], "a2"), 0);
    CHECK_INT(put(q, r[0], "a3"), 0);
    CHECK_INT(put(q, r[1], "b2"), 0);
    CHECK_INT(queue_len(r[0]), 3);
    CHECK_INT(queue_len(r[1]), 2);
    queue_sync(q);
    size_t n;
    CHECK_STR(drain_text(r[1], &n, 0), "b1,b2");
    CHECK_STR(drain_text(r[0], &n, 0), "a1,a2,a3");
    /* B acks, A does not: A still sees everything */
    queue_ack(r[1], 1);
    CHECK_INT(queue_len(r[1]), 1);
    CHECK_INT(queue_len(r[0]), 3);
    CHECK_STR(drain_text(r[0], &n, 0), "a1,a2,a3");
    CHECK_STR(drain_text(r[1], &n, 0), "b2");
    queue_ack(r[0], 2);
    CHECK_STR(drain_text(r[0], &n, 0), "a3");
    CHECK_STR(drain_text(r[1], &n, 0), "b2");
    /* one append call for both targets */
    struct qrec recs[2] = { { 0 } };
    recs[0].to = r[0];
    recs[0].payload[0] = (struct iovec){ "a4", 2 };
    recs[0].npayload = 1;
    recs[1] = recs[0];
    recs[1].to = r[1];
    recs[1].payload[0] = (struct iovec){ "b3", 2 };
    uint64_t ticket;
    CHECK_INT(queue_append(q, recs, 2, &ticket, err, sizeof err), 0);
    queue_sync(q);
    CHECK_STR(drain_all(r[0], &n), "a3,a4");
    CHECK_STR(drain_all(r[1], &n), "b2,b3");
    CHECK_INT(queue_len(r[0]), 0);
    CHECK_INT(queue_len(r[1]), 0);
out:
    queue_close(q);
    rmdir_all(dir);
}

TEST(queue_limit_full_appends_nothing)
{
    char *dir = tmpdir();
    struct qreader *r[2];
    struct queue *q = qopen(dir, r, (const char *[]){ "t:full", "t:roomy", NULL }, 0);
    CHECK(q && r[0] && r[1]);
    if (!q || !r[0] || !r[1])
        goto out;
    queue_close(q);
    q = queue_open(dir, err, sizeof err);
    CHECK(q != NULL);
    if (!q)
        goto out;
    r[0] = queue_reader(q, "t:full", 2);
    r[1] = queue_reader(q, "t:roomy", 100);
    queue_start(q);
    CHECK_INT(queue_limit(r[0]), 2);
    CHECK_INT(queue_limit(r[1]), 100);
    CHECK_INT(put(q, r[0], "1"), 0);
    CHECK_INT(put(q, r[0], "2"), 0);
    long long size = seg1_size(dir);
    CHECK_INT(put(q, r[0], "3"), QUEUE_FULL);
    CHECK(strstr(err, "t:full") != NULL);
    /* all or nothing: a batch with one full target appends nothing */
    struct qrec recs[2] = { { 0 } };
    recs[0].to = r[1];
    recs[0].payload[0] = (struct iovec){ "x", 1 };
    recs[0].npayload = 1;
    recs[1] = recs[0];
    recs[1].to = r[0];
    uint64_t ticket;
    CHECK_INT(queue_append(q, recs, 2, &ticket, err, sizeof err), QUEUE_FULL);
    CHECK_INT(seg1_size(dir), size);
    CHECK_INT(queue_len(r[0]), 2);
    CHECK_INT(queue_len(r[1]), 0);
    recs[0].to = r[1];
    CHECK_INT(queue_append(q, recs, 1, &ticket, err, sizeof err), 0);
    queue_sync(q);
    size_t n;
    CHECK_STR(drain_text(r[0], &n, 0), "1,2");
    /* room again after an ack */
    queue_ack(r[0], 1);
    CHECK_INT(put(q, r[0], "3"), 0);
    CHECK_INT(put(q, r[0], "4"), QUEUE_FULL);
    queue_sync(q);
    CHECK_STR(drain_all(r[0], &n), "2,3");
    CHECK_STR(drain_all(r[1], &n), "x");
out:
    queue_close(q);
    rmdir_all(dir);
}

/* issue 16: one request's appends to several journals are all or nothing.
 * The second journal's write fails (RLIMIT_FSIZE: EFBIG), so the first
 * must keep nothing of it: not on disk, not for its reader. */
TEST(append_all_takes_back_a_failed_request)
{
    char *d1 = tmpdir(), *d2 = tmpdir();
    struct qreader *r1[1], *r2[1];
    struct queue *q1 = qopen(d1, r1, (const char *[]){ "t:one", NULL }, 100);
    struct queue *q2 = qopen(d2, r2, (const char *[]){ "t:two", NULL }, 100);
    struct rlimit old;
    CHECK(q1 && q2 && getrlimit(RLIMIT_FSIZE, &old) == 0);
    if (!q1 || !q2)
        goto out;
    CHECK_INT(put(q1, r1[0], "before"), 0);
    CHECK_INT(put(q2, r2[0], "before"), 0);
    queue_sync(q1);
    queue_sync(q2);
    long long size1 = seg1_size(d1);
    static char big[65536];
    memset(big, 'b', sizeof big);
    struct qrec recs[2] = { { 0 } };
    recs[0].to = r1[0];
    recs[0].payload[0] = (struct iovec){ "small", 5 };
    recs[0].npayload = 1;
    recs[1].to = r2[0];
    recs[1].payload[0] = (struct iovec){ big, sizeof big };
    recs[1].npayload = 1;
    struct qappend a[2] = { { .q = q1, .recs = &recs[0], .n = 1 }, { .q = q2, .recs = &recs[1], .n = 1 } };
    /* room for the small record in q1's segment, not for the big one in q2's */
    struct rlimit lim = { (rlim_t)(seg1_size(d2) > size1 ? seg1_size(d2) : size1) + 4096, old.rlim_max };
    signal(SIGXFSZ, SIG_IGN);
    CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    int rc = queue_append_all(a, 2, err, sizeof err);
    setrlimit(RLIMIT_FSIZE, &old);
    CHECK_INT(rc, -1);
    CHECK(strstr(err, "cannot write") != NULL);
    CHECK_INT(seg1_size(d1), size1);
    queue_sync(q1);
    CHECK_INT(queue_len(r1[0]), 1);
    /* the journal goes on as if the request had never come */
    CHECK_INT(put(q1, r1[0], "after"), 0);
    CHECK_INT(queue_append_all(a, 1, err, sizeof err), 0);
    queue_sync(q1);
    size_t n;
    CHECK_STR(drain_all(r1[0], &n), "before,after,small");
    CHECK_STR(drain_all(r2[0], &n), "before");
out:
    queue_close(q1);
    queue_close(q2);
    rmdir_all(d1);
    rmdir_all(d2);
}

/* issue 15: a request of thousands of records is encoded in steps off
 * the lock (queue_encode), then appended as bytes: the journal gets the
 * same records, and the queue limit still counts every one of them. */
TEST(append_of_records_encoded_ahead)
{
    char *dir = tmpdir();
    struct qreader *r[1];
    struct queue *q = qopen(dir, r, (const char *[]){ "t:one", NULL }, 6);
    if (!q)
        goto out;
    static const char *const words[] = { "a", "bb", "ccc", "dddd", "eeeee" };
    struct qrec recs[5] = { { 0 } };
    for (int i = 0; i < 5; i++) {
        recs[i].to = r[0];
        recs[i].payload[0] = (struct iovec){ (void *)words[i], strlen(words[i]) };
        recs[i].npayload = 1;
        recs[i].key = "bucket/key";
        recs[i].event_name = "s3:ObjectCreated:Put";
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    CHECK_INT(queue_encode(&buf, &len, &cap, recs, 2), 0);
    CHECK_INT(queue_encode(&buf, &len, &cap, recs + 2, 3), 0);
    struct qappend a = { .q = q, .recs = recs, .n = 5, .bytes = buf, .len = len };
    CHECK_INT(put(q, r[0], "first"), 0);
    CHECK_INT(queue_append_all(&a, 1, err, sizeof err), 0);
    CHECK(a.ticket > 0);
    queue_sync(q);
    /* full now (6 of 6): the next request, encoded ahead, is refused whole */
    struct qappend more = { .q = q, .recs = recs, .n = 1, .bytes = buf, .len = len / 5 };
    CHECK_INT(queue_append_all(&more, 1, err, sizeof err), QUEUE_FULL);
    CHECK(strstr(err, "full") != NULL);
    size_t n;
    CHECK_STR(drain_all(r[0], &n), "first,a,bb,ccc,dddd,eeeee");
    CHECK_INT(n, 6);
out:
    free(buf);
    queue_close(q);
    rmdir_all(dir);
}

TEST(queue_limit_counts_within_one_batch)
{
    char *dir = tmpdir();
    struct queue *q = queue_open(dir, err, sizeof err);
    CHECK(q != NULL);
    if (!q)
        goto out;
    struct qreader *r = queue_reader(q, "t", 2);
    queue_start(q);
    struct qrec recs[3] = { { 0 } };
    for (int i = 0; i < 3; i++) {
        recs[i].to = r;
        recs[i].payload[0] = (struct iovec){ "p", 1 };
        recs[i].npayload = 1;
    }
    uint64_t ticket;
    CHECK_INT(queue_append(q, recs, 3, &ticket, err, sizeof err), QUEUE_FULL);
    CHECK_INT(queue_len(r), 0);
    CHECK_INT(seg1_size(dir), 0);
    CHECK_INT(queue_append(q, recs, 2, &ticket, err, sizeof err), 0);
    CHECK_INT(queue_len(r), 2);
out:
    queue_close(q);
    rmdir_all(dir);
}

TEST(visible_only_when_durable)
{
    char *dir = tmpdir();
    struct qreader *r[1];
    struct queue *q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    CHECK_INT(put(q, r[0], "one"), 0);
    CHECK_INT(put(q, r[0], "two"), 0);
    CHECK_INT(queue_len(r[0]), 2);
    CHECK_INT(queue_durable(q), 0);
    struct msg m[4];
    CHECK_INT(queue_peek(r[0], m, 4, 0), 0);
    CHECK_INT(queue_peek(r[0], m, 4, 10), 0);
    CHECK_INT(queue_sync(q), 0);
    size_t n;
    CHECK_STR(drain_text(r[0], &n, 0), "one,two");
    CHECK_INT(put(q, r[0], "three"), 0);
    CHECK_STR(drain_text(r[0], &n, 1), "one,two");
    CHECK_INT(queue_peek(r[0], m, 4, 0), 0);
    queue_sync(q);
    CHECK_STR(drain_text(r[0], &n, 1), "three");
out:
    queue_close(q);
    rmdir_all(dir);
}

static int durable_calls;
static void on_durable(void *arg)
{
    (void)arg;
    __atomic_add_fetch(&durable_calls, 1, __ATOMIC_SEQ_CST);
}

TEST(committer_thread_makes_appends_visible)
{
    char *dir = tmpdir();
    struct qreader *r[1];
    struct queue *q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    durable_calls = 0;
    CHECK_INT(queue_start_committer(q, 200, on_durable, NULL), 0);
    CHECK_INT(put(q, r[0], "c1"), 0);
    struct msg m[4];
    int n = 0;
    for (int i = 0; i < 50 && n == 0; i++)
        n = queue_peek(r[0], m, 4, 100);
    CHECK_INT(n, 1);
    if (n == 1)
        CHECK(m[0].payload_len == 2 && !memcmp(m[0].payload, "c1", 2));
    /* the callback runs just after the commit published what it synced */
    for (int i = 0; i < 100 && __atomic_load_n(&durable_calls, __ATOMIC_SEQ_CST) < 1; i++)
        usleep(10000);
    CHECK(__atomic_load_n(&durable_calls, __ATOMIC_SEQ_CST) >= 1);
    queue_ack(r[0], 1);
out:
    queue_close(q);
    rmdir_all(dir);
}

/* ---- the committer: natural group commit ------------------------------- */

/* Append one record for r and return its ticket (0 on failure). */
/* One record tagged tag for r, appended (waking the committer unless
 * defer_kick): its ticket, or 0. */
static uint64_t put_rec(struct queue *q, struct qreader *r, const char *tag, int defer_kick)
{
    struct qrec rec = { 0 };
    rec.to = r;
    rec.payload[0] = (struct iovec){ (void *)tag, strlen(tag) };
    rec.npayload = 1;
    rec.event_name = "s3:ObjectCreated:Put";
    rec.key = "bkt/k";
    rec.event_time = "2026-11-21T08:00:02.653Z";
    struct qappend a = { .q = q, .recs = &rec, .n = 1, .defer_kick = defer_kick };
    return queue_append_all(&a, 1, err, sizeof err) ? 0 : a.ticket;
}

static uint64_t put_ticket(struct queue *q, struct qreader *r, const char *tag)
{
    return put_rec(q, r, tag, 0);
}

/* Wait (10 s at most: a loaded machine) for the committer to reach ticket. */
static int wait_durable(struct queue *q, uint64_t ticket)
{
    for (int i = 0; i < 10000 && queue_durable(q) < ticket; i++)
        usleep(1000);
    return queue_durable(q) >= ticket;
}

static uint64_t commits_of(struct queue *q)
{
    struct queue_stats st;
    queue_stats(q, &st);
    return st.commits;
}

/* A request alone must not wait for company: each lone append is synced
 * by a commit of its own, started as soon as it is there. */
TEST(committer_syncs_a_lone_append_at_once)
{
    char *dir = tmpdir();
    struct qreader *r[1];
    struct queue *q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    CHECK_INT(queue_start_committer(q, 0, NULL, NULL), 0);
    for (int i = 0; i < 3; i++) {
        uint64_t t = put_ticket(q, r[0], "lone");
        CHECK(t > 0);
        CHECK(wait_durable(q, t));
        CHECK(!queue_failed(q, t));
    }
    CHECK(commits_of(q) == 3);
    size_t n;
    CHECK_STR(drain_text(r[0], &n, 1), "lone,lone,lone");
out:
    queue_close(q);
    rmdir_all(dir);
}

/* A slow disk: each sync takes 2 ms, so appends pile up behind it. */
static int slow_fdatasync(int fd)
{
    usleep(2000);
    return fdatasync(fd);
}

struct appender {
    struct queue *q;
    struct qreader *r;
    int n, ok;
};

/* Like a connection of a closed loop: append, wait until durable, again. */
static void *appender_main(void *arg)
{
    struct appender *a = arg;
    for (int i = 0; i < a->n; i++) {
        uint64_t t = put_ticket(a->q, a->r, "g");
        if (t && wait_durable(a->q, t) && !queue_failed(a->q, t))
            a->ok++;
    }
    return NULL;
}

/* nt threads of body, per appends each, joined: how many ended durable
 * and not failed (-1 if a thread could not start). */
static int run_appenders(struct queue *q, struct qreader *r, int nt, int per, void *(*body)(void *))
{
    pthread_t th[16];
    struct appender a[16];
    int started = 0, ok = 0;
    for (int i = 0; i < nt && i < 16; i++) {
        a[i] = (struct appender){ q, r, per, 0 };
        if (pthread_create(&th[i], NULL, body, &a[i]) == 0)
            started++;
    }
    for (int i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        ok += a[i].ok;
    }
    return started == nt ? ok : -1;
}

/* What arrives during a sync forms the next group: 8 writers in a closed
 * loop against a 2 ms sync need far fewer commits than appends. */
TEST(committer_groups_form_under_concurrent_appends)
{
    char *dir = tmpdir();
    struct qreader *r[1];
    struct queue *q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    queue_fdatasync = slow_fdatasync;
    CHECK_INT(queue_start_committer(q, 0, NULL, NULL), 0);
    enum { NT = 8, PER = 40 };
    CHECK_INT(run_appenders(q, r[0], NT, PER, appender_main), NT * PER);
    uint64_t commits = commits_of(q);
    printf("  # %d appends in %llu commits\n", NT * PER, (unsigned long long)commits);
    CHECK(commits >= 1 && commits <= NT * PER / 2);
    CHECK_INT((int)queue_len(r[0]), NT * PER);
out:
    queue_close(q);
    queue_fdatasync = fdatasync;
    rmdir_all(dir);
}

/* put_ticket, leaving the committer asleep (qappend.defer_kick) */
static uint64_t put_deferred(struct queue *q, struct qreader *r, const char *tag)
{
    return put_rec(q, r, tag, 1);
}

/* A disk whose syncs always take well under the 10 ms past which nobody
 * leads (a loaded machine's real fdatasync may not). */
static int quick_fdatasync(int fd)
{
    (void)fd;
    return 0;
}

/* An ingest worker with one request waiting commits it itself: durable
 * when queue_kick returns, on_durable told, the committer not involved. */
TEST(kick_leads_a_lone_commit_in_the_caller)
{
    char *dir = tmpdir();
    struct qreader *r[1];
    struct queue *q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    durable_calls = 0;
    queue_fdatasync = quick_fdatasync;
    CHECK_INT(queue_start_committer(q, 0, on_durable, NULL), 0);
    /* the first commit also syncs the directory, a real fsync that may
     * take more than 2 ms: the committer's */
    uint64_t t0 = put_deferred(q, r[0], "first");
    queue_kick(q, 0);
    CHECK(wait_durable(q, t0));
    durable_calls = 0;
    uint64_t commits0 = commits_of(q);
    for (int i = 0; i < 3; i++) {
        uint64_t t = put_deferred(q, r[0], "led");
        CHECK(t > 0);
        CHECK_INT(queue_kick(q, 1), 1);
        CHECK(queue_durable(q) >= t && !queue_failed(q, t));
    }
    CHECK(commits_of(q) == commits0 + 3);
    CHECK_INT(__atomic_load_n(&durable_calls, __ATOMIC_SEQ_CST), 3);
    CHECK_INT(queue_kick(q, 1), 0); /* nothing left to commit */
    size_t n;
    CHECK_STR(drain_text(r[0], &n, 1), "first,led,led,led");
out:
    queue_close(q);
    queue_fdatasync = fdatasync;
    rmdir_all(dir);
}

/* A deferred append waits for its kick (the worker's batch end): without
 * one the committer sleeps; queue_kick(q, 0) wakes it. */
TEST(kick_without_lead_wakes_the_committer)
{
    char *dir = tmpdir();
    struct qreader *r[1];
    struct queue *q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    CHECK_INT(queue_start_committer(q, 0, NULL, NULL), 0);
    usleep(50000); /* the committer asleep: it syncs what it finds when it starts */
    uint64_t t = put_deferred(q, r[0], "k");
    CHECK(t > 0);
    usleep(50000);
    CHECK(queue_durable(q) < t);
    CHECK_INT(queue_kick(q, 0), 0);
    CHECK(wait_durable(q, t) && !queue_failed(q, t));
out:
    queue_close(q);
    rmdir_all(dir);
}

static int stalling_fdatasync(int fd)
{
    usleep(15000);
    return fdatasync(fd);
}

/* After a commit slower than 10 ms (a stalling disk) the caller does not
 * lead: its event loop would stop for that long; the committer syncs. */
TEST(kick_leaves_a_slow_disk_to_the_committer)
{
    char *dir = tmpdir();
    struct qreader *r[1];
    struct queue *q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    CHECK_INT(queue_start_committer(q, 0, NULL, NULL), 0);
    queue_fdatasync = quick_fdatasync;
    uint64_t t = put_deferred(q, r[0], "first"); /* the directory's sync: see above */
    queue_kick(q, 0);
    CHECK(wait_durable(q, t));
    queue_fdatasync = stalling_fdatasync;
    t = put_deferred(q, r[0], "a");
    CHECK_INT(queue_kick(q, 1), 1); /* no slow commit seen yet */
    CHECK(queue_durable(q) >= t);
    t = put_deferred(q, r[0], "b");
    CHECK_INT(queue_kick(q, 1), 0);
    CHECK(wait_durable(q, t) && !queue_failed(q, t));
    queue_fdatasync = quick_fdatasync;
    t = put_deferred(q, r[0], "c"); /* a quick commit by the committer again... */
    CHECK_INT(queue_kick(q, 0), 0);
    CHECK(wait_durable(q, t));
    t = put_deferred(q, r[0], "d"); /* ...and callers lead again */
    CHECK_INT(queue_kick(q, 1), 1);
    CHECK(queue_durable(q) >= t);
out:
    queue_close(q);
    queue_fdatasync = fdatasync;
    rmdir_all(dir);
}

static void *leader_main(void *arg)
{
    struct appender *a = arg;
    for (int i = 0; i < a->n; i++) {
        uint64_t t = put_deferred(a->q, a->r, "l");
        if (t)
            queue_kick(a->q, i % 2); /* half lead, half hand over */
        if (t && wait_durable(a->q, t) && !queue_failed(a->q, t))
            a->ok++;
    }
    return NULL;
}

/* Leaders in several threads, the committer and a slow disk: one commit
 * at a time, and every append ends durable and readable. */
TEST(leaders_and_committer_take_turns)
{
    char *dir = tmpdir();
    struct qreader *r[1];
    struct queue *q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    queue_fdatasync = slow_fdatasync;
    CHECK_INT(queue_start_committer(q, 0, NULL, NULL), 0);
    enum { NT = 6, PER = 30 };
    CHECK_INT(run_appenders(q, r[0], NT, PER, leader_main), NT * PER);
    CHECK_INT((int)queue_len(r[0]), NT * PER);
out:
    queue_close(q);
    queue_fdatasync = fdatasync;
    rmdir_all(dir);
}

static int failing_fdatasync(int fd)
{
    (void)fd;
    errno = EIO;
    return -1;
}

/* A failed sync reaches the requests of its group (they get a 500, not a
 * 200) and nothing of it is handed to readers; the next group is fine. */
TEST(committer_error_reaches_the_group)
{
    char *dir = tmpdir();
    struct qreader *r[1];
    struct queue *q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    durable_calls = 0;
    queue_fdatasync = failing_fdatasync;
    CHECK_INT(queue_start_committer(q, 0, on_durable, NULL), 0);
    uint64_t t = put_ticket(q, r[0], "lost");
    CHECK(t > 0 && wait_durable(q, t));
    CHECK(queue_failed(q, t));
    struct msg m[4];
    CHECK_INT(queue_peek(r[0], m, 4, 0), 0);
    for (int i = 0; i < 1000 && __atomic_load_n(&durable_calls, __ATOMIC_SEQ_CST) < 1; i++)
        usleep(10000);
    CHECK(__atomic_load_n(&durable_calls, __ATOMIC_SEQ_CST) >= 1);
    queue_fdatasync = fdatasync;
    uint64_t t2 = put_ticket(q, r[0], "kept");
    CHECK(t2 > t && wait_durable(q, t2));
    CHECK(!queue_failed(q, t2));
out:
    queue_close(q);
    queue_fdatasync = fdatasync;
    rmdir_all(dir);
}

/* A commit made by queue_sync in another thread tells the waiting
 * requests, as the committer's would: the committer will not run for
 * appends that are durable already. */
TEST(queue_sync_calls_on_durable)
{
    char *dir = tmpdir();
    struct qreader *r[1];
    struct queue *q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    CHECK_INT(queue_start_committer(q, 0, on_durable, NULL), 0);
    uint64_t t = put_ticket(q, r[0], "s");
    CHECK(t > 0 && wait_durable(q, t)); /* the committer's own round */
    __atomic_store_n(&durable_calls, 0, __ATOMIC_SEQ_CST);
    t = put_ticket(q, r[0], "s2");
    CHECK_INT(queue_sync(q), 0);
    CHECK(queue_durable(q) >= t);
    CHECK(__atomic_load_n(&durable_calls, __ATOMIC_SEQ_CST) >= 1);
out:
    queue_close(q);
    rmdir_all(dir);
}

struct syncer {
    struct queue *q;
    int n, fails;
};

static void *syncer_main(void *arg)
{
    struct syncer *s = arg;
    for (int i = 0; i < s->n; i++) {
        if (queue_sync(s->q))
            s->fails++;
    }
    return NULL;
}

/* Commits from other threads (queue_sync: the dead-letter queue, Lua's
 * luagate.queue) run one at a time with the committer's: every append ends
 * durable and readable. */
TEST(commits_from_several_threads_take_turns)
{
    char *dir = tmpdir();
    struct qreader *r[1];
    struct queue *q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    CHECK_INT(queue_start_committer(q, 0, NULL, NULL), 0);
    struct syncer s[2] = { { q, 200, 0 }, { q, 200, 0 } };
    pthread_t th[2];
    int started = 0;
    for (int i = 0; i < 2; i++)
        started += pthread_create(&th[i], NULL, syncer_main, &s[i]) == 0;
    CHECK_INT(started, 2);
    uint64_t t = 0;
    for (int i = 0; i < 300; i++)
        t = put_ticket(q, r[0], "x");
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    CHECK(t > 0 && wait_durable(q, t) && !queue_failed(q, t));
    CHECK_INT(s[0].fails + s[1].fails, 0);
    CHECK_INT((int)queue_len(r[0]), 300);
out:
    queue_close(q);
    rmdir_all(dir);
}

TEST(reopen_redelivers_unacked_only)
{
    char *dir = tmpdir();
    struct qreader *r[2];
    struct queue *q = qopen(dir, r, (const char *[]){ "t:A", "t:B", NULL }, 0);
    CHECK(q && r[0] && r[1]);
    if (!q || !r[0] || !r[1])
        goto out;
    put(q, r[0], "a1");
    put(q, r[1], "b1");
    put(q, r[0], "a2");
    put(q, r[0], "a3");
    queue_sync(q);
    size_t n;
    drain_text(r[0], &n, 0);
    queue_ack(r[0], 1); /* a1 done */
    put(q, r[0], "a4"); /* appended, never synced explicitly: close commits it */
    queue_close(q);
    q = qopen(dir, r, (const char *[]){ "t:A", "t:B", NULL }, 0);
    CHECK(q && r[0] && r[1]);
    if (!q || !r[0] || !r[1])
        goto out;
    CHECK_INT(queue_len(r[0]), 3);
    CHECK_INT(queue_len(r[1]), 1);
    CHECK_STR(drain_text(r[0], &n, 0), "a2,a3,a4");
    CHECK_STR(drain_text(r[1], &n, 1), "b1");
    queue_ack(r[0], 2);
    queue_close(q);
    q = qopen(dir, r, (const char *[]){ "t:A", "t:B", NULL }, 0);
    CHECK(q && r[0] && r[1]);
    if (!q || !r[0] || !r[1])
        goto out;
    CHECK_INT(queue_len(r[0]), 1);
    CHECK_INT(queue_len(r[1]), 0);
    CHECK_STR(drain_text(r[0], &n, 1), "a4");
    CHECK_STR(drain_text(r[1], &n, 1), "");
out:
    queue_close(q);
    rmdir_all(dir);
}

TEST(second_open_of_a_directory_refused)
{
    char *dir = tmpdir();
    struct queue *q = queue_open(dir, err, sizeof err);
    CHECK(q != NULL);
    struct queue *q2 = queue_open(dir, err, sizeof err);
    CHECK(q2 == NULL);
    CHECK(strstr(err, "in use") != NULL);
    queue_close(q2);
    queue_close(q);
    rmdir_all(dir);
}

TEST(bad_target_names_refused)
{
    char *dir = tmpdir();
    struct queue *q = queue_open(dir, err, sizeof err);
    CHECK(q != NULL);
    if (q) {
        CHECK(queue_reader(q, "../evil", 0) == NULL);
        CHECK(queue_reader(q, "a/b", 0) == NULL);
        CHECK(queue_reader(q, "", 0) == NULL);
        CHECK(queue_reader(q, "kafka:PRIMARY", 0) != NULL);
    }
    queue_close(q);
    rmdir_all(dir);
}

TEST(new_reader_starts_at_the_end)
{
    char *dir = tmpdir();
    struct qreader *r[2];
    struct queue *q = qopen(dir, r, (const char *[]){ "t:A", "t:B", NULL }, 0);
    CHECK(q && r[0] && r[1]);
    if (!q || !r[0] || !r[1])
        goto out;
    put(q, r[0], "a1");
    put(q, r[1], "old1");
    put(q, r[1], "old2");
    queue_close(q);
    /* t:B's cursor is gone (target removed, then added again): it is new */
    char path[4096];
    snprintf(path, sizeof path, "%s/cursors/t:B.cur", dir);
    CHECK_INT(unlink(path), 0);
    q = qopen(dir, r, (const char *[]){ "t:A", "t:B", NULL }, 0);
    CHECK(q && r[0] && r[1]);
    if (!q || !r[0] || !r[1])
        goto out;
    CHECK_INT(queue_len(r[1]), 0);
    CHECK_INT(queue_len(r[0]), 1);
    put(q, r[1], "new");
    queue_sync(q);
    size_t n;
    CHECK_STR(drain_text(r[1], &n, 1), "new");
    CHECK_STR(drain_text(r[0], &n, 1), "a1");
    /* and a reader never seen before on a non-empty journal */
    struct qreader *c = queue_reader(q, "t:C", 0);
    CHECK(c != NULL);
    if (c) {
        CHECK_INT(queue_len(c), 0);
        put(q, c, "c1");
        queue_sync(q);
        CHECK_STR(drain_text(c, &n, 1), "c1");
    }
out:
    queue_close(q);
    rmdir_all(dir);
}

/* Write 5 records r1..r5 for "t" and close; ends[i] is the segment size
 * after record i+1. */
static struct queue *five_records(char *dir, long long ends[5])
{
    struct qreader *r[1];
    struct queue *q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    if (!q || !r[0])
        return q;
    char tag[64];
    for (int i = 0; i < 5; i++) {
        snprintf(tag, sizeof tag, "r%d-payload-with-some-bytes-in-it", i + 1);
        put(q, r[0], tag);
        ends[i] = seg1_size(dir);
    }
    queue_sync(q);
    queue_close(q);
    return (struct queue *)1;
}

static const char *const R1_5 =
    "r1-payload-with-some-bytes-in-it,r2-payload-with-some-bytes-in-it,"
    "r3-payload-with-some-bytes-in-it,r4-payload-with-some-bytes-in-it,"
    "r5-payload-with-some-bytes-in-it";

TEST(recovery_cuts_a_torn_tail)
{
    char *dir = tmpdir();
    long long ends[5];
    CHECK(five_records(dir, ends) != NULL);
    char seg[4096];
    seg_file(dir, 1, seg, sizeof seg);
    long long cut_at = ends[3] + (ends[4] - ends[3]) / 2; /* half of r5 */
    CHECK_INT(truncate(seg, cut_at), 0);
    struct qreader *r[1];
    struct queue *q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    struct queue_stats st;
    queue_stats(q, &st);
    CHECK(st.cut_bytes > 0);
    CHECK_INT(st.cut_bytes, cut_at - ends[3]);
    CHECK_INT(seg1_size(dir), ends[3]);
    CHECK_INT(queue_len(r[0]), 4);
    put(q, r[0], "after");
    queue_sync(q);
    size_t n;
    char *all = drain_all(r[0], &n);
    CHECK_INT(n, 5);
    CHECK(!strncmp(all, R1_5, strlen(R1_5) - strlen("r5-payload-with-some-bytes-in-it")));
    CHECK(strstr(all, "r5-") == NULL);
    CHECK(strstr(all, ",after") != NULL);
    queue_close(q);
    /* and the journal is whole again: a second reopen cuts nothing */
    q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q != NULL);
    if (q) {
        queue_stats(q, &st);
        CHECK_INT(st.cut_bytes, 0);
        CHECK_INT(st.cut_records, 0);
    }
out:
    queue_close(q);
    rmdir_all(dir);
}

TEST(recovery_torn_header)
{
    char *dir = tmpdir();
    long long ends[5];
    CHECK(five_records(dir, ends) != NULL);
    char seg[4096];
    seg_file(dir, 1, seg, sizeof seg);
    CHECK_INT(truncate(seg, ends[3] + 5), 0); /* r5 has 5 bytes of its header */
    struct qreader *r[1];
    struct queue *q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    struct queue_stats st;
    queue_stats(q, &st);
    CHECK_INT(st.cut_bytes, 5);
    put(q, r[0], "after");
    queue_sync(q);
    size_t n;
    drain_all(r[0], &n);
    CHECK_INT(n, 5);
out:
    queue_close(q);
    rmdir_all(dir);
}

static void flip(const char *path, long long off, int count)
{
    int fd = open(path, O_RDWR);
    for (int i = 0; i < count; i++) {
        unsigned char c;
        if (pread(fd, &c, 1, off + i) == 1) {
            c ^= 0x5a;
            if (pwrite(fd, &c, 1, off + i) != 1)
                break;
        }
    }
    close(fd);
}

TEST(recovery_skips_a_corrupt_record_in_the_middle)
{
    char *dir = tmpdir();
    long long ends[5];
    CHECK(five_records(dir, ends) != NULL);
    char seg[4096];
    seg_file(dir, 1, seg, sizeof seg);
    long long mid = ends[1] + (ends[2] - ends[1]) / 2; /* inside r3 */
    flip(seg, mid, 4);
    struct qreader *r[1];
    struct queue *q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    struct queue_stats st;
    queue_stats(q, &st);
    CHECK_INT(st.cut_records, 1);
    CHECK_INT(st.cut_bytes, ends[2] - ends[1]);
    CHECK_INT(seg1_size(dir), ends[4]); /* not a tail: nothing truncated */
    CHECK_INT(queue_len(r[0]), 4);
    size_t n;
    char *all = drain_all(r[0], &n);
    CHECK_INT(n, 4);
    CHECK_STR(all, "r1-payload-with-some-bytes-in-it,r2-payload-with-some-bytes-in-it,"
                   "r4-payload-with-some-bytes-in-it,r5-payload-with-some-bytes-in-it");
    CHECK_INT(queue_len(r[0]), 0);
    put(q, r[0], "after");
    queue_sync(q);
    CHECK_STR(drain_all(r[0], &n), "after");
out:
    queue_close(q);
    rmdir_all(dir);
}

TEST(recovery_skips_a_record_with_a_corrupt_length)
{
    char *dir = tmpdir();
    long long ends[5];
    CHECK(five_records(dir, ends) != NULL);
    char seg[4096];
    seg_file(dir, 1, seg, sizeof seg);
    flip(seg, ends[1] + 5, 1); /* r3's length field: now far too long */
    struct qreader *r[1];
    struct queue *q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    struct queue_stats st;
    queue_stats(q, &st);
    CHECK_INT(st.cut_records, 1);
    CHECK_INT(queue_len(r[0]), 4);
    size_t n;
    char *all = drain_all(r[0], &n);
    CHECK_INT(n, 4);
    CHECK_STR(all, "r1-payload-with-some-bytes-in-it,r2-payload-with-some-bytes-in-it,"
                   "r4-payload-with-some-bytes-in-it,r5-payload-with-some-bytes-in-it");
out:
    queue_close(q);
    rmdir_all(dir);
}

TEST(recovery_cuts_garbage_after_the_records)
{
    char *dir = tmpdir();
    long long ends[5];
    CHECK(five_records(dir, ends) != NULL);
    char seg[4096];
    seg_file(dir, 1, seg, sizeof seg);
    FILE *f = fopen(seg, "ab");
    CHECK(f != NULL);
    if (f) {
        for (int i = 0; i < 1000; i++)
            fputc((i * 37 + 11) & 0xff, f);
        /* and a fake header claiming more bytes than there are */
        const unsigned char fake[12] = { 0x4c, 0x47, 0x51, 0x31, 0x00, 0x10, 0, 0, 1, 2, 3, 4 };
        fwrite(fake, 1, sizeof fake, f);
        fclose(f);
    }
    struct qreader *r[1];
    struct queue *q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    struct queue_stats st;
    queue_stats(q, &st);
    CHECK_INT(st.cut_bytes, 1012);
    CHECK_INT(seg1_size(dir), ends[4]);
    put(q, r[0], "after");
    queue_sync(q);
    size_t n;
    char *all = drain_all(r[0], &n);
    CHECK_INT(n, 6);
    CHECK(!strncmp(all, R1_5, strlen(R1_5)));
    CHECK(strstr(all, ",after") != NULL);
out:
    queue_close(q);
    rmdir_all(dir);
}

TEST(recovery_empty_segment_files)
{
    char *dir = tmpdir();
    /* a journal whose only segment is empty (crash right after creating it) */
    struct queue *q = queue_open(dir, err, sizeof err);
    CHECK(q != NULL);
    queue_close(q);
    CHECK_INT(seg1_size(dir), 0);
    struct qreader *r[1];
    q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    put(q, r[0], "x1");
    queue_close(q);
    /* an empty segment after a full one (crash right after a rotation) */
    char seg2[4096];
    seg_file(dir, 2, seg2, sizeof seg2);
    int fd = open(seg2, O_CREAT | O_WRONLY, 0600);
    CHECK(fd >= 0);
    close(fd);
    q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    struct queue_stats st;
    queue_stats(q, &st);
    CHECK_INT(st.cut_bytes, 0);
    CHECK_INT(st.segments, 2);
    CHECK_INT(queue_len(r[0]), 1);
    put(q, r[0], "x2"); /* goes to segment 2 */
    queue_sync(q);
    CHECK(file_size(seg2) > 0);
    size_t n;
    CHECK_STR(drain_one_by_one(r[0]), "x1,x2");
    queue_close(q);
    q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (q && r[0]) {
        CHECK_INT(queue_len(r[0]), 0);
        CHECK_STR(drain_all(r[0], &n), "");
    }
out:
    queue_close(q);
    rmdir_all(dir);
}

/* A peek whose messages come from two segments: every message handed out
 * must stay valid until the next peek/ack (queue.h), so the ones read
 * from segment 1 must not be overwritten when segment 2 is read.  An empty
 * segment 2 left by a crash right after a rotation reaches the boundary
 * without writing 64 MiB. */
TEST(peek_across_a_segment_boundary_keeps_messages_valid)
{
    char *dir = tmpdir();
    struct qreader *r[1];
    struct queue *q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    put(q, r[0], "in-segment-1");
    queue_close(q);
    char seg2[4096];
    seg_file(dir, 2, seg2, sizeof seg2);
    int fd = open(seg2, O_CREAT | O_WRONLY, 0600);
    close(fd);
    q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    put(q, r[0], "in-segment-2");
    queue_sync(q);
    struct msg m[4];
    int n = queue_peek(r[0], m, 4, 0);
    CHECK(n >= 1);
    if (n >= 1) {
        CHECK_INT(m[0].payload_len, 12);
        CHECK(!memcmp(m[0].payload, "in-segment-1", 12));
        CHECK_STR(m[0].key, "bkt/in-segment-1");
    }
    if (n == 2) {
        CHECK(!memcmp(m[1].payload, "in-segment-2", 12));
        CHECK_STR(m[1].key, "bkt/in-segment-2");
    }
out:
    queue_close(q);
    rmdir_all(dir);
}

/* The same within one segment: the reader reads a segment through a 1 MiB
 * window; a record header that straddles the window's end must not make
 * the peek re-read the window under the messages it already handed out. */
TEST(peek_across_the_read_window_keeps_messages_valid)
{
    char *dir = tmpdir();
    struct qreader *r[1];
    struct queue *q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    size_t pl = 100000;
    char *p = malloc(2 * pl);
    if (!p)
        goto out;
    struct qrec rec = { 0 };
    rec.to = r[0];
    rec.npayload = 1;
    rec.event_name = "n";
    rec.key = "b/k";
    uint64_t ticket;
    long long overhead = 0;
    const long long window = 1 << 20;
    for (int i = 0; i < 10; i++) {
        size_t len = pl;
        if (i == 9) /* the 10th ends 6 bytes before the window's end */
            len = (size_t)(window - 6 - seg1_size(dir) - overhead);
        memset(p, 'A' + i, len);
        rec.payload[0] = (struct iovec){ p, len };
        CHECK_INT(queue_append(q, &rec, 1, &ticket, err, sizeof err), 0);
        if (i == 0)
            overhead = seg1_size(dir) - (long long)pl;
    }
    CHECK_INT(seg1_size(dir), window - 6);
    memset(p, 'Z', 100);
    rec.payload[0] = (struct iovec){ p, 100 };
    CHECK_INT(queue_append(q, &rec, 1, &ticket, err, sizeof err), 0);
    free(p);
    queue_sync(q);
    struct msg m[64];
    int n = queue_peek(r[0], m, 64, 0);
    CHECK(n >= 10);
    int bad = 0;
    for (int i = 0; i < n && i < 10; i++)
        if (m[i].payload[0] != 'A' + i || m[i].payload[m[i].payload_len - 1] != 'A' + i ||
            strcmp(m[i].key, "b/k"))
            bad++;
    CHECK_INT(bad, 0);
    if (n == 11)
        CHECK(m[10].payload_len == 100 && m[10].payload[0] == 'Z');
out:
    queue_close(q);
    rmdir_all(dir);
}

TEST(corrupt_cursor_restarts_from_the_oldest_segment)
{
    char *dir = tmpdir();
    struct qreader *r[1];
    struct queue *q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    put(q, r[0], "c1");
    put(q, r[0], "c2");
    put(q, r[0], "c3");
    queue_sync(q);
    struct msg m[4];
    CHECK_INT(queue_peek(r[0], m, 1, 0), 1);
    queue_ack(r[0], 1); /* c1 delivered */
    queue_close(q);
    char path[4096];
    snprintf(path, sizeof path, "%s/cursors/t.cur", dir);
    flip(path, 3, 2);
    q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    /* duplicates are allowed (c1 again), losing c2 and c3 is not */
    size_t n;
    char *all = drain_all(r[0], &n);
    CHECK(strstr(all, "c2") != NULL);
    CHECK(strstr(all, "c3") != NULL);
    CHECK_STR(all, "c1,c2,c3");
out:
    queue_close(q);
    rmdir_all(dir);
}

TEST(truncated_cursor_restarts_from_the_oldest_segment)
{
    char *dir = tmpdir();
    struct qreader *r[1];
    struct queue *q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    put(q, r[0], "d1");
    put(q, r[0], "d2");
    queue_close(q);
    char path[4096];
    snprintf(path, sizeof path, "%s/cursors/t.cur", dir);
    CHECK_INT(truncate(path, 10), 0);
    q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    size_t n;
    CHECK_STR(drain_all(r[0], &n), "d1,d2");
out:
    queue_close(q);
    rmdir_all(dir);
}

/* Two records of ~33 MiB fill segment 1; the next append rotates; once
 * every reader has passed segment 1 it is deleted. */
TEST(segment_rotation_and_deletion)
{
    char *dir = tmpdir();
    struct qreader *r[2];
    struct queue *q = qopen(dir, r, (const char *[]){ "t:A", "t:B", NULL }, 0);
    CHECK(q && r[0] && r[1]);
    if (!q || !r[0] || !r[1])
        goto out;
    size_t big = (33u << 20);
    char *p = malloc(big);
    if (!p)
        goto out;
    memset(p, 'z', big);
    struct qrec rec = { 0 };
    rec.to = r[0];
    rec.payload[0] = (struct iovec){ p, big };
    rec.npayload = 1;
    uint64_t ticket;
    CHECK_INT(queue_append(q, &rec, 1, &ticket, err, sizeof err), 0);
    rec.to = r[1];
    CHECK_INT(queue_append(q, &rec, 1, &ticket, err, sizeof err), 0);
    free(p);
    put(q, r[0], "small-a");
    put(q, r[1], "small-b");
    queue_sync(q);
    char seg1[4096], seg2[4096];
    seg_file(dir, 1, seg1, sizeof seg1);
    seg_file(dir, 2, seg2, sizeof seg2);
    CHECK(file_size(seg2) > 0);
    struct queue_stats st;
    queue_stats(q, &st);
    CHECK_INT(st.segments, 2);
    struct msg m[4];
    for (int i = 0; i < 2; i++) {
        int n = queue_peek(r[i], m, 4, 0);
        CHECK(n >= 1);
        if (n >= 1)
            CHECK_INT(m[0].payload_len, big);
        queue_ack(r[i], 1);
    }
    size_t n;
    CHECK_STR(drain_all(r[0], &n), "small-a");
    CHECK(file_size(seg1) > 0); /* B has not passed it yet */
    CHECK_STR(drain_all(r[1], &n), "small-b");
    CHECK_INT(file_size(seg1), -1);
    queue_stats(q, &st);
    CHECK_INT(st.segments, 1);
    queue_close(q);
    q = qopen(dir, r, (const char *[]){ "t:A", "t:B", NULL }, 0);
    CHECK(q && r[0] && r[1]);
    if (q && r[0] && r[1]) {
        CHECK_INT(queue_len(r[0]), 0);
        put(q, r[0], "later");
        queue_sync(q);
        CHECK_STR(drain_all(r[0], &n), "later");
    }
out:
    queue_close(q);
    rmdir_all(dir);
}

/* Append n zero bytes to path: what a pre-zeroed segment holds after its
 * last record (spare.c). */
static int add_zeros(const char *path, size_t n)
{
    long long at = file_size(path);
    char *z = calloc(1, n);
    int fd = open(path, O_WRONLY);
    int ok = z && fd >= 0 && at >= 0 && pwrite(fd, z, n, (off_t)at) == (ssize_t)n;
    if (fd >= 0)
        close(fd);
    free(z);
    return ok ? 0 : -1;
}

/* five_records, then n zeros after them: a pre-zeroed segment 1 after a
 * crash.  0 on success. */
static int five_records_then_zeros(char *dir, long long ends[5], size_t n)
{
    char seg[4096];
    seg_file(dir, 1, seg, sizeof seg);
    return five_records(dir, ends) ? add_zeros(seg, n) : -1;
}

TEST(recovery_keeps_the_zeros_of_a_pre_zeroed_segment)
{
    char *dir = tmpdir();
    long long ends[5];
    CHECK_INT(five_records_then_zeros(dir, ends, 1u << 20), 0);
    struct qreader *r[1];
    struct queue *q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    struct queue_stats st;
    queue_stats(q, &st);
    CHECK_INT(st.cut_bytes, 0); /* zeros are room, not damage */
    CHECK_INT(st.cut_records, 0);
    CHECK_INT(seg1_size(dir), ends[4] + (1 << 20));
    CHECK_INT(queue_len(r[0]), 5);
    put(q, r[0], "after"); /* overwrites zeros, the file keeps its size */
    queue_sync(q);
    CHECK_INT(seg1_size(dir), ends[4] + (1 << 20));
    size_t n;
    char *all = drain_all(r[0], &n);
    CHECK_INT(n, 6);
    CHECK(!strncmp(all, R1_5, strlen(R1_5)) && !strcmp(all + strlen(R1_5), ",after"));
    queue_close(q);
    q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q != NULL);
    if (q) {
        queue_stats(q, &st);
        CHECK_INT(st.cut_bytes, 0);
        CHECK_INT(queue_len(r[0]), 0);
    }
out:
    queue_close(q);
    rmdir_all(dir);
}

TEST(recovery_cuts_a_torn_record_before_the_zeros)
{
    char *dir = tmpdir();
    long long ends[5];
    CHECK(five_records(dir, ends) != NULL);
    char seg[4096];
    seg_file(dir, 1, seg, sizeof seg);
    long long cut_at = ends[3] + (ends[4] - ends[3]) / 2; /* half of r5, then zeros */
    CHECK_INT(truncate(seg, cut_at), 0);
    CHECK_INT(add_zeros(seg, 4096), 0);
    struct qreader *r[1];
    struct queue *q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    struct queue_stats st;
    queue_stats(q, &st);
    CHECK(st.cut_bytes > 0);
    CHECK_INT(seg1_size(dir), ends[3]); /* half a record must not stay under new ones */
    CHECK_INT(queue_len(r[0]), 4);
    put(q, r[0], "after");
    queue_sync(q);
    size_t n;
    char *all = drain_all(r[0], &n);
    CHECK_INT(n, 5);
    CHECK(strstr(all, "r5-") == NULL && strstr(all, ",after") != NULL);
out:
    queue_close(q);
    rmdir_all(dir);
}

TEST(recovery_cuts_the_zeros_of_an_older_segment)
{
    /* a crash during a rotation, before the cut of the zeros was durable:
     * readers take an older segment's size as its end */
    char *dir = tmpdir();
    long long ends[5];
    CHECK(five_records(dir, ends) != NULL);
    char seg1[4096], seg2[4096];
    seg_file(dir, 1, seg1, sizeof seg1);
    seg_file(dir, 2, seg2, sizeof seg2);
    CHECK_INT(add_zeros(seg1, 65536), 0);
    int fd = open(seg2, O_WRONLY | O_CREAT, 0600);
    CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);
    CHECK_INT(add_zeros(seg2, 65536), 0);
    struct qreader *r[1];
    struct queue *q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    struct queue_stats st;
    queue_stats(q, &st);
    CHECK_INT(st.cut_bytes, 0);
    CHECK_INT(seg1_size(dir), ends[4]);
    CHECK_INT(file_size(seg2), 65536);
    put(q, r[0], "in-2");
    queue_sync(q);
    size_t n;
    char *all = drain_all(r[0], &n);
    CHECK_INT(n, 6);
    CHECK(!strncmp(all, R1_5, strlen(R1_5)) && !strcmp(all + strlen(R1_5), ",in-2"));
out:
    queue_close(q);
    rmdir_all(dir);
}

/* A reader that read up to the durable end of a pre-zeroed segment must
 * not keep the zeros after it: later appends replace them. */
TEST(reader_sees_appends_that_replace_zeros)
{
    char *dir = tmpdir();
    long long ends[5];
    CHECK_INT(five_records_then_zeros(dir, ends, 1u << 20), 0);
    struct qreader *r[1];
    struct queue *q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    size_t n;
    drain_all(r[0], &n);
    CHECK_INT(n, 5);
    for (int i = 0; i < 3; i++) {
        char tag[32];
        snprintf(tag, sizeof tag, "later-%d", i);
        put(q, r[0], tag);
        queue_sync(q);
        CHECK_STR(drain_all(r[0], &n), tag);
    }
out:
    queue_close(q);
    rmdir_all(dir);
}

/* With the committer running, a zeroed spare is prepared and the journal
 * moves into it at the next append; at rotation the zeros are cut. */
TEST(appends_go_to_a_pre_zeroed_segment)
{
    char *dir = tmpdir();
    struct qreader *r[1];
    struct queue *q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q && r[0]);
    if (!q || !r[0])
        goto out;
    CHECK_INT(queue_start_committer(q, 0, NULL, NULL), 0);
    char spare[4096], seg2[4096], seg3[4096];
    snprintf(spare, sizeof spare, "%s/journal/spare.tmp", dir);
    seg_file(dir, 2, seg2, sizeof seg2);
    seg_file(dir, 3, seg3, sizeof seg3);
    put(q, r[0], "plain"); /* segment 1: created at open, not zeroed */
    usleep(300000);
    CHECK_INT(file_size(spare), -1); /* nothing zeroed before the first MiB came */
    size_t mib = 1u << 20;
    char *one = calloc(1, mib);
    struct qrec first = { .to = r[0], .payload = { { one, mib } }, .npayload = 1 };
    uint64_t t1;
    CHECK(one && queue_append(q, &first, 1, &t1, err, sizeof err) == 0);
    free(one);
    long long seg_bytes = 64ll << 20;
    for (int i = 0; i < 300 && file_size(seg2) < 0; i++) {
        usleep(20000); /* the spare takes ~0.1-1 s to write and sync */
        put(q, r[0], "x");
    }
    CHECK_INT(file_size(seg2), seg_bytes);
    for (int i = 0; i < 300 && file_size(spare) != seg_bytes; i++)
        usleep(20000); /* and the next spare is prepared */
    CHECK_INT(file_size(spare), seg_bytes);
    /* fill segment 2 past its end: the rotation cuts its zeros */
    size_t big = 40u << 20;
    char *p = malloc(big);
    CHECK(p != NULL);
    if (!p)
        goto out;
    memset(p, 'z', big);
    struct qrec rec = { .to = r[0], .payload = { { p, big } }, .npayload = 1 };
    uint64_t ticket;
    CHECK_INT(queue_append(q, &rec, 1, &ticket, err, sizeof err), 0);
    CHECK_INT(queue_append(q, &rec, 1, &ticket, err, sizeof err), 0);
    free(p);
    put(q, r[0], "in-3");
    CHECK(file_size(seg2) > (long long)big && file_size(seg2) < (long long)(2 * big) + 4096);
    CHECK_INT(file_size(seg3), seg_bytes);
    struct msg m[4];
    int n = 0, seen = 0, last_ok = 0;
    for (int round = 0; round < 100000 && !last_ok; round++) {
        n = queue_peek(r[0], m, 4, 100); /* 80 MiB take a while to sync */
        if (n <= 0 && round > 200)
            break;
        if (n <= 0)
            continue;
        seen += n;
        last_ok = m[n - 1].payload_len == 4 && !memcmp(m[n - 1].payload, "in-3", 4);
        queue_ack(r[0], (size_t)n);
    }
    CHECK(last_ok);
    CHECK(seen >= 5);
    struct queue_stats st;
    queue_stats(q, &st);
    CHECK_INT(st.cut_bytes, 0);
    /* passed segments: one kept to be zeroed again (not deleted), the rest deleted */
    char recycled[4096];
    snprintf(recycled, sizeof recycled, "%s/journal/recycle.tmp", dir);
    CHECK_INT(file_size(seg2), -1);
    CHECK(file_size(recycled) > 0);
    queue_close(q);
    q = NULL;
    CHECK_INT(file_size(spare), -1); /* not left behind */
    CHECK_INT(file_size(recycled), -1);
    q = qopen(dir, r, (const char *[]){ "t", NULL }, 0);
    CHECK(q != NULL);
    if (q) {
        queue_stats(q, &st);
        CHECK_INT(st.cut_bytes, 0);
        CHECK_INT(queue_len(r[0]), 0);
    }
out:
    queue_close(q);
    rmdir_all(dir);
}

int main(void)
{
    RUN(round_trip_all_fields);
    RUN(order_preserved_and_peek_max);
    RUN(two_readers_share_one_journal);
    RUN(queue_limit_full_appends_nothing);
    RUN(append_all_takes_back_a_failed_request);
    RUN(append_of_records_encoded_ahead);
    RUN(queue_limit_counts_within_one_batch);
    RUN(visible_only_when_durable);
    RUN(committer_thread_makes_appends_visible);
    RUN(committer_syncs_a_lone_append_at_once);
    RUN(committer_groups_form_under_concurrent_appends);
    RUN(kick_leads_a_lone_commit_in_the_caller);
    RUN(kick_without_lead_wakes_the_committer);
    RUN(kick_leaves_a_slow_disk_to_the_committer);
    RUN(leaders_and_committer_take_turns);
    RUN(committer_error_reaches_the_group);
    RUN(commits_from_several_threads_take_turns);
    RUN(queue_sync_calls_on_durable);
    RUN(reopen_redelivers_unacked_only);
    RUN(second_open_of_a_directory_refused);
    RUN(bad_target_names_refused);
    RUN(new_reader_starts_at_the_end);
    RUN(recovery_cuts_a_torn_tail);
    RUN(recovery_torn_header);
    RUN(recovery_skips_a_corrupt_record_in_the_middle);
    RUN(recovery_skips_a_record_with_a_corrupt_length);
    RUN(recovery_cuts_garbage_after_the_records);
    RUN(recovery_empty_segment_files);
    RUN(peek_across_a_segment_boundary_keeps_messages_valid);
    RUN(peek_across_the_read_window_keeps_messages_valid);
    RUN(corrupt_cursor_restarts_from_the_oldest_segment);
    RUN(truncated_cursor_restarts_from_the_oldest_segment);
    RUN(segment_rotation_and_deletion);
    RUN(recovery_keeps_the_zeros_of_a_pre_zeroed_segment);
    RUN(recovery_cuts_a_torn_record_before_the_zeros);
    RUN(recovery_cuts_the_zeros_of_an_older_segment);
    RUN(reader_sees_appends_that_replace_zeros);
    RUN(appends_go_to_a_pre_zeroed_segment);
    return unit_done();
}
