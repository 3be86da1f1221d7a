/* test_delivery.c -- the delivery loop (src/delivery.c) with a fake driver
 * on a real journal: deliveries are acknowledged in order and counted, an
 * unavailable target is retried with a growing backoff and never
 * dead-lettered, a refused message is dead-lettered at max_attempts (and
 * kept when the dead-letter queue cannot be written), and the target's
 * state follows what it answered. */
#include <ftw.h>
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>
#include "clock.h"
#include "delivery.h"
#include "dlq.h"
#include "log.h"
#include "unit.h"

/* ---- the fake driver: what it answers is set by the test ---------------- */

static struct {
    pthread_mutex_t mu;
    int down;            /* sends left that find the target unavailable */
    char reject[16];     /* payload refused while reject_left != 0 (-1: forever) */
    int reject_left;
    int cut_after_first; /* once: the first message OK, the rest not confirmed */
    char sent[1024];     /* payloads confirmed, in order, comma separated */
    int sends;
    uint64_t send_ms[64];
} fk = { .mu = PTHREAD_MUTEX_INITIALIZER };

static int fake_ctx;

static void *fake_open(const struct target_conf *c, char *err, size_t errlen)
{
    (void)c, (void)err, (void)errlen;
    return &fake_ctx;
}

static void confirm(struct msg *m)
{
    size_t o = strlen(fk.sent);
    snprintf(fk.sent + o, sizeof fk.sent - o, "%s%.*s", o ? "," : "", (int)m->payload_len, m->payload);
    m->status = MSG_OK;
}

static int fake_send(void *ctx, struct msg *msgs, size_t n)
{
    (void)ctx;
    pthread_mutex_lock(&fk.mu);
    if (fk.sends < 64)
        fk.send_ms[fk.sends] = clock_mono_ms();
    fk.sends++;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        struct msg *m = &msgs[i];
        if (fk.down > 0 || (fk.cut_after_first && i > 0)) {
            m->status = MSG_RETRY;
            snprintf(m->error, sizeof m->error, "connection refused");
            rc = fk.down > 0 ? -1 : 0;
        } else if (fk.reject_left && m->payload_len == strlen(fk.reject) &&
                   !memcmp(m->payload, fk.reject, m->payload_len)) {
            m->status = MSG_REJECT;
            snprintf(m->error, sizeof m->error, "400 bad value");
            if (fk.reject_left > 0)
                fk.reject_left--;
            break; /* the rest stays MSG_PENDING: not sent */
        } else {
            confirm(m);
        }
    }
    if (fk.down > 0)
        fk.down--;
    fk.cut_after_first = 0;
    pthread_mutex_unlock(&fk.mu);
    return rc;
}

static int fake_health(void *ctx, char *err, size_t errlen)
{
    (void)ctx, (void)err, (void)errlen;
    return 0;
}

static void fake_close(void *ctx) { (void)ctx; }

static const struct key_spec fake_keys[] = { { 0 } };
static const struct driver fake_driver = {
    .kind = "fake", .keys = fake_keys, .max_batch = 8,
    .open = fake_open, .send = fake_send, .health = fake_health, .close = fake_close,
};
static const struct kind_info fake_kind = { "fake", "fake", "FAKE", &fake_driver };

/* ---- one target on a journal in a fresh directory ----------------------- */

struct rig {
    char dir[64];
    struct target_conf *tc;
    struct queue *q;
    struct target t;
};

static void fake_reset(void)
{
    pthread_mutex_lock(&fk.mu);
    fk.down = fk.reject_left = fk.cut_after_first = fk.sends = 0;
    fk.reject[0] = fk.sent[0] = 0;
    pthread_mutex_unlock(&fk.mu);
}

/* max_attempts, retry_min and retry_max as the settings spell them;
 * dlq_dir NULL: the journal's directory. */
static int rig_open(struct rig *g, const char *max_attempts, const char *dlq_dir)
{
    char err[256];
    memset(g, 0, sizeof *g);
    snprintf(g->dir, sizeof g->dir, "/tmp/luagate-delivery.XXXXXX");
    if (!mkdtemp(g->dir) || !(g->tc = tconf_new(&fake_kind, "1")))
        return -1;
    tconf_set(g->tc, "max_attempts", max_attempts);
    tconf_set(g->tc, "retry_min", "200ms");
    tconf_set(g->tc, "retry_max", "400ms");
    if (!(g->q = queue_open(g->dir, err, sizeof err))) {
        printf("  # queue_open: %s\n", err);
        return -1;
    }
    target_init(&g->t, g->tc, dlq_dir ? dlq_dir : g->dir);
    if (target_attach(&g->t, g->q, err, sizeof err) || queue_start(g->q)) {
        printf("  # %s\n", err);
        return -1;
    }
    return 0;
}

/* Queue the payloads of a comma separated list, durably. */
static int rig_put(struct rig *g, const char *list)
{
    char tags[256], err[256], key[64];
    snprintf(tags, sizeof tags, "%s", list);
    for (char *save, *tag = strtok_r(tags, ",", &save); tag; tag = strtok_r(NULL, ",", &save)) {
        snprintf(key, sizeof key, "bkt/%s", tag);
        struct qrec rec = { 0 };
        rec.to = g->t.reader;
        rec.payload[0] = (struct iovec){ tag, strlen(tag) };
        rec.npayload = 1;
        rec.event_name = "s3:ObjectCreated:Put";
        rec.key = key;
        rec.event_time = "2026-11-21T08:00:02.653Z";
        uint64_t ticket;
        if (queue_append(g->q, &rec, 1, &ticket, err, sizeof err))
            return printf("  # queue_append: %s\n", err), -1;
    }
    return queue_sync(g->q);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st, (void)flag, (void)f;
    return remove(p);
}

static void rig_close(struct rig *g)
{
    if (g->t.running || g->t.ctx) {
        delivery_stop(&g->t);
        queue_wake(g->q);
        delivery_join(&g->t);
    }
    if (g->tc)
        target_destroy(&g->t);
    if (g->q)
        queue_close(g->q);
    tconf_free(g->tc);
    nftw(g->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* Wait (generously: a loaded machine) until the counter reaches want. */
static int wait_for(atomic_uint_fast64_t *v, uint64_t want)
{
    for (int i = 0; i < 3000 && atomic_load(v) < want; i++)
        usleep(10000);
    return atomic_load(v) >= want;
}

/* The state is set just after the counters, and its reason just after
 * it: wait until both are want and why. */
static int wait_state(struct target *t, int want, const char *why)
{
    char now[640] = "";
    for (int i = 0; i < 3000; i++) {
        target_error(t, now, sizeof now);
        if (atomic_load(&t->state) == want && !strcmp(now, why))
            return 1;
        usleep(10000);
    }
    printf("  # state %d (%s), expected %d (%s)\n", atomic_load(&t->state), now, want, why);
    return 0;
}

static int sends(void)
{
    pthread_mutex_lock(&fk.mu);
    int n = fk.sends;
    pthread_mutex_unlock(&fk.mu);
    return n;
}

static char *dlq_text(struct rig *g)
{
    char path[4200];
    dlq_path(g->t.dlq_dir, g->tc->name, path, sizeof path);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    static char text[4096];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = 0;
    fclose(f);
    return text;
}

/* ---- the tests ------------------------------------------------------------ */

TEST(delivers_in_order_and_acks)
{
    struct rig g;
    fake_reset();
    CHECK_INT(rig_open(&g, "1", NULL), 0);
    CHECK_INT(rig_put(&g, "a,b,c"), 0);
    CHECK_INT(delivery_start(&g.t), 0);
    CHECK(wait_for(&g.t.delivered, 3));
    CHECK_STR(fk.sent, "a,b,c");
    CHECK_INT(queue_len(g.t.reader), 0);
    CHECK(wait_state(&g.t, TARGET_ONLINE, ""));
    CHECK_INT(atomic_load(&g.t.failed), 0);
    CHECK_INT(atomic_load(&g.t.latency_count), 3);
    CHECK(atomic_load(&g.t.batches) >= 1);
    rig_close(&g);
}

/* Down three times: offline with the reason, the same message sent again
 * after a backoff that grows (retry_min 200ms, doubling, half to all of
 * it), never dead-lettered even at max_attempts 1, online once it lands. */
TEST(outage_retries_with_backoff)
{
    struct rig g;
    fake_reset();
    fk.down = 3;
    CHECK_INT(rig_open(&g, "1", NULL), 0);
    CHECK_INT(rig_put(&g, "a"), 0);
    CHECK_INT(delivery_start(&g.t), 0);
    CHECK(wait_state(&g.t, TARGET_OFFLINE, "connection refused"));
    CHECK(wait_for(&g.t.delivered, 1));
    CHECK_INT(sends(), 4);
    CHECK_STR(fk.sent, "a");
    CHECK(fk.send_ms[1] - fk.send_ms[0] >= 100);
    CHECK(fk.send_ms[2] - fk.send_ms[1] >= 200);
    CHECK(fk.send_ms[3] - fk.send_ms[2] >= 200);
    CHECK_INT(atomic_load(&g.t.retried), 3);
    CHECK_INT(atomic_load(&g.t.failed), 3);
    CHECK_INT(atomic_load(&g.t.dead_lettered), 0);
    CHECK(dlq_text(&g) == NULL);
    CHECK(wait_state(&g.t, TARGET_ONLINE, ""));
    rig_close(&g);
}

/* A message refused every time goes to the dead-letter queue at its third
 * refusal with the target's answer; the one after it is delivered. */
TEST(refused_message_dead_lettered)
{
    struct rig g;
    fake_reset();
    snprintf(fk.reject, sizeof fk.reject, "poison");
    fk.reject_left = -1;
    CHECK_INT(rig_open(&g, "3", NULL), 0);
    CHECK_INT(rig_put(&g, "poison,next"), 0);
    CHECK_INT(delivery_start(&g.t), 0);
    CHECK(wait_for(&g.t.delivered, 1));
    CHECK_STR(fk.sent, "next");
    CHECK_INT(atomic_load(&g.t.dead_lettered), 1);
    CHECK_INT(atomic_load(&g.t.failed), 3);
    CHECK_INT(queue_len(g.t.reader), 0);
    const char *d = dlq_text(&g);
    CHECK(d && strstr(d, "\"attempts\":3") && strstr(d, "400 bad value") && strstr(d, "\"payload\":\"poison\""));
    CHECK(wait_state(&g.t, TARGET_ONLINE, ""));
    rig_close(&g);
}

/* Refused twice, then taken: delivered, nothing dead-lettered. */
TEST(refused_then_accepted)
{
    struct rig g;
    fake_reset();
    snprintf(fk.reject, sizeof fk.reject, "flaky");
    fk.reject_left = 2;
    CHECK_INT(rig_open(&g, "5", NULL), 0);
    CHECK_INT(rig_put(&g, "flaky,b"), 0);
    CHECK_INT(delivery_start(&g.t), 0);
    CHECK(wait_for(&g.t.delivered, 2));
    CHECK_STR(fk.sent, "flaky,b");
    CHECK_INT(atomic_load(&g.t.dead_lettered), 0);
    CHECK_INT(atomic_load(&g.t.failed), 2);
    CHECK(dlq_text(&g) == NULL);
    rig_close(&g);
}

/* A batch half confirmed: the confirmed head is acknowledged and never
 * sent again; the rest is. */
TEST(partial_batch_acks_the_head)
{
    struct rig g;
    fake_reset();
    fk.cut_after_first = 1;
    CHECK_INT(rig_open(&g, "1", NULL), 0);
    CHECK_INT(rig_put(&g, "a,b,c"), 0);
    CHECK_INT(delivery_start(&g.t), 0);
    CHECK(wait_for(&g.t.delivered, 3));
    CHECK_STR(fk.sent, "a,b,c");
    CHECK_INT(atomic_load(&g.t.retried), 2);
    CHECK_INT(sends(), 2);
    rig_close(&g);
}

/* The dead-letter queue cannot be written: the condemned message stays
 * queued rather than being lost. */
TEST(unwritable_dlq_keeps_the_message)
{
    struct rig g;
    fake_reset();
    snprintf(fk.reject, sizeof fk.reject, "poison");
    fk.reject_left = -1;
    CHECK_INT(rig_open(&g, "1", "/dev/null/nowhere"), 0);
    CHECK_INT(rig_put(&g, "poison"), 0);
    CHECK_INT(delivery_start(&g.t), 0);
    for (int i = 0; i < 3000 && sends() < 3; i++)
        usleep(10000);
    CHECK(sends() >= 3);
    CHECK_INT(atomic_load(&g.t.dead_lettered), 0);
    CHECK_INT(queue_len(g.t.reader), 1);
    CHECK_INT(atomic_load(&g.t.delivered), 0);
    rig_close(&g);
}

int main(void)
{
    log_init(0, LOG_ERROR); /* the offline/dead-letter lines are expected here */
    RUN(delivers_in_order_and_acks);
    RUN(outage_retries_with_backoff);
    RUN(refused_message_dead_lettered);
    RUN(refused_then_accepted);
    RUN(partial_batch_acks_the_head);
    RUN(unwritable_dlq_keeps_the_message);
    return unit_done();
}
