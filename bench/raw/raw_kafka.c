/* raw_kafka.c -- librdkafka baseline: produce everything, flush, acks=1.
 *
 *   raw_kafka BOOTSTRAP TOPIC N [FLUSH_EVERY] [LINGER_MS]
 *
 * The ceiling of librdkafka against the mock cluster: rd_kafka_producev of
 * the sample envelopes keyed by their object key (as MinIO does), librdkafka
 * defaults (max.in.flight 1000000, batching per partition) except acks=1
 * and linger.ms (LINGER_MS, default 0: the fastest here; librdkafka's own
 * default of 5 gives ~60 % of it), rd_kafka_poll(0) between produces, a
 * blocking poll when the local queue is full, and rd_kafka_flush every
 * FLUSH_EVERY (default: only at the end).  Every delivery report must be
 * success. */
#include <librdkafka/rdkafka.h>
#include "raw_common.h"

static size_t delivered, failed;

static void dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *o)
{
    (void)rk, (void)o;
    if (m->err)
        failed++;
    else
        delivered++;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: raw_kafka BOOTSTRAP TOPIC N [FLUSH_EVERY]\n");
        return 2;
    }
    size_t n = strtoul(argv[3], NULL, 10);
    size_t every = argc > 4 ? strtoul(argv[4], NULL, 10) : 0;
    const char *linger = argc > 5 ? argv[5] : "0";
    if (raw_load())
        return 2;
    char e[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (rd_kafka_conf_set(c, "bootstrap.servers", argv[1], e, sizeof e) ||
        rd_kafka_conf_set(c, "acks", "1", e, sizeof e) ||
        rd_kafka_conf_set(c, "linger.ms", linger, e, sizeof e)) {
        fprintf(stderr, "raw_kafka: %s\n", e);
        return 2;
    }
    rd_kafka_conf_set_dr_msg_cb(c, dr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, e, sizeof e);
    if (!rk) {
        fprintf(stderr, "raw_kafka: %s\n", e);
        return 1;
    }
    /* warm-up: metadata and connection */
    rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(argv[2]), RD_KAFKA_V_VALUE("x", 1), RD_KAFKA_V_END);
    rd_kafka_flush(rk, 10000);
    delivered = failed = 0;
    size_t bytes = 0;
    char key[512];
    raw_start();
    for (size_t i = 0; i < n; i++) {
        const char *p = raw_payload(i, 0);
        size_t len = strlen(p);
        raw_key(i, key, sizeof key);
        bytes += len;
        for (;;) {
            rd_kafka_resp_err_t err = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(argv[2]), RD_KAFKA_V_VALUE((void *)p, len),
                RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_END);
            if (!err)
                break;
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                fprintf(stderr, "raw_kafka: produce: %s\n", rd_kafka_err2str(err));
                return 1;
            }
            rd_kafka_poll(rk, 10);
        }
        rd_kafka_poll(rk, 0);
        if (every && (i + 1) % every == 0)
            rd_kafka_flush(rk, 30000);
    }
    rd_kafka_flush(rk, 30000);
    raw_done("kafka", n, bytes);
    if (failed || delivered != n) {
        fprintf(stderr, "raw_kafka: %zu delivered, %zu failed of %zu\n", delivered, failed, n);
        return 1;
    }
    rd_kafka_destroy(rk);
    return 0;
}
