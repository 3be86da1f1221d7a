/* raw_amqp.c -- rabbitmq-c baseline: publisher confirms, pipelined.
 *
 *   raw_amqp HOST PORT EXCHANGE ROUTING_KEY QUEUE N [WINDOW]   publish N, confirmed
 *   raw_amqp HOST PORT EXCHANGE ROUTING_KEY QUEUE cleanup      delete queue + exchange
 *
 * Declares the direct exchange (non-durable, as the driver's defaults do), a
 * queue bound to it with ROUTING_KEY (so every message is routed and stored,
 * as it would be in production), purges it, then publishes the sample
 * envelopes with the same properties the driver sends (content-type,
 * minio-bucket / minio-event headers) in windows of WINDOW (256): publish the
 * whole window, then read basic.ack frames (multiple acks honoured) until
 * every tag of the window is confirmed. */
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include "raw_common.h"

static amqp_connection_state_t conn;

static void die(const char *what, amqp_rpc_reply_t r)
{
    if (r.reply_type == AMQP_RESPONSE_NORMAL)
        return;
    fprintf(stderr, "raw_amqp: %s failed (reply type %d, lib %s)\n", what, r.reply_type,
            amqp_error_string2(r.library_error));
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: raw_amqp HOST PORT EXCHANGE RK QUEUE N|cleanup [WINDOW]\n");
        return 2;
    }
    const char *host = argv[1], *ex = argv[3], *rk = argv[4], *q = argv[5];
    int port = atoi(argv[2]);
    int cleanup = !strcmp(argv[6], "cleanup");
    size_t n = cleanup ? 0 : strtoul(argv[6], NULL, 10);
    size_t window = argc > 7 ? strtoul(argv[7], NULL, 10) : 256;
    if (raw_load())
        return 2;
    conn = amqp_new_connection();
    amqp_socket_t *s = amqp_tcp_socket_new(conn);
    if (amqp_socket_open(s, host, port)) {
        fprintf(stderr, "raw_amqp: cannot connect to %s:%d\n", host, port);
        return 1;
    }
    die("login", amqp_login(conn, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest"));
    amqp_channel_open(conn, 1);
    die("channel.open", amqp_get_rpc_reply(conn));
    if (cleanup) {
        amqp_queue_delete(conn, 1, amqp_cstring_bytes(q), 0, 0);
        die("queue.delete", amqp_get_rpc_reply(conn));
        amqp_exchange_delete(conn, 1, amqp_cstring_bytes(ex), 0);
        die("exchange.delete", amqp_get_rpc_reply(conn));
        amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
        return 0;
    }
    amqp_exchange_declare(conn, 1, amqp_cstring_bytes(ex), amqp_cstring_bytes("direct"), 0, 0, 0, 0,
                          amqp_empty_table);
    die("exchange.declare", amqp_get_rpc_reply(conn));
    amqp_queue_declare(conn, 1, amqp_cstring_bytes(q), 0, 0, 0, 0, amqp_empty_table);
    die("queue.declare", amqp_get_rpc_reply(conn));
    amqp_queue_bind(conn, 1, amqp_cstring_bytes(q), amqp_cstring_bytes(ex), amqp_cstring_bytes(rk),
                    amqp_empty_table);
    die("queue.bind", amqp_get_rpc_reply(conn));
    amqp_queue_purge(conn, 1, amqp_cstring_bytes(q));
    die("queue.purge", amqp_get_rpc_reply(conn));
    amqp_confirm_select(conn, 1);
    die("confirm.select", amqp_get_rpc_reply(conn));

    size_t bytes = 0, acked = 0;
    uint64_t tag = 0;
    raw_start();
    for (size_t off = 0; off < n; off += window) {
        size_t k = n - off < window ? n - off : window;
        for (size_t i = off; i < off + k; i++) {
            const struct sample *sm = raw_sample(i);
            const char *p = raw_payload(i, 0);
            size_t pl = strlen(p);
            const char *slash = strchr(sm->key, '/');
            size_t blen = slash ? (size_t)(slash - sm->key) : strlen(sm->key);
            amqp_table_entry_t e[2];
            e[0].key = amqp_cstring_bytes("minio-bucket");
            e[0].value.kind = AMQP_FIELD_KIND_UTF8;
            e[0].value.value.bytes = (amqp_bytes_t){ blen, (void *)sm->key };
            e[1].key = amqp_cstring_bytes("minio-event");
            e[1].value.kind = AMQP_FIELD_KIND_UTF8;
            e[1].value.value.bytes = amqp_cstring_bytes(sm->event_name);
            amqp_basic_properties_t props = {
                ._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_HEADERS_FLAG,
                .content_type = amqp_cstring_bytes("application/json"),
                .headers = { 2, e },
            };
            if (amqp_basic_publish(conn, 1, amqp_cstring_bytes(ex), amqp_cstring_bytes(rk), 0, 0,
                                   &props, (amqp_bytes_t){ pl, (void *)p }) != AMQP_STATUS_OK) {
                fprintf(stderr, "raw_amqp: publish failed\n");
                return 1;
            }
            tag++;
            bytes += pl;
        }
        while (acked < tag) {
            amqp_frame_t f;
            int st = amqp_simple_wait_frame(conn, &f);
            if (st != AMQP_STATUS_OK) {
                fprintf(stderr, "raw_amqp: wait: %s\n", amqp_error_string2(st));
                return 1;
            }
            if (f.frame_type != AMQP_FRAME_METHOD)
                continue;
            if (f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
                amqp_basic_ack_t *a = f.payload.method.decoded;
                acked = a->multiple ? a->delivery_tag : (a->delivery_tag > acked ? a->delivery_tag : acked);
            } else if (f.payload.method.id == AMQP_BASIC_NACK_METHOD) {
                fprintf(stderr, "raw_amqp: nack\n");
                return 1;
            } else {
                fprintf(stderr, "raw_amqp: unexpected method 0x%08x\n", f.payload.method.id);
                return 1;
            }
        }
        amqp_maybe_release_buffers(conn);
    }
    raw_done("amqp", n, bytes);
    amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
    amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(conn);
    return 0;
}
