/* raw_nsq.c -- plain-socket baseline of the NSQ target.
 *
 *   raw_nsq HOST PORT TOPIC N [BATCH]
 *
 * There is no C nsq library (targets/nsq.c speaks the protocol itself), so
 * the raw client is the least a producer can do over TCP: the magic "  V2"
 * (no IDENTIFY: the server's defaults), then one MPUB of BATCH (256, the
 * driver's max_batch) sample envelopes per round trip, each waiting for its
 * OK; a _heartbeat_ on the way is answered with NOP.  Blocking socket,
 * TCP_NODELAY like the driver, one write per MPUB.
 *
 * Frames, big-endian: MPUB <topic>\n [body size][count] ([size][bytes])...;
 * the server answers [size][type][data], size = 4 + len(data). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <sys/socket.h>
#include "raw_common.h"

static int fd = -1;

static void put32(char *p, uint32_t v)
{
    v = htonl(v);
    memcpy(p, &v, 4);
}

static int write_all(const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        p += w, n -= (size_t)w;
    }
    return 0;
}

static int read_all(char *p, size_t n)
{
    while (n) {
        ssize_t r = recv(fd, p, n, 0);
        if (r <= 0)
            return -1;
        p += r, n -= (size_t)r;
    }
    return 0;
}

/* The reply to the last command: 0 on OK, -1 (printed) otherwise. */
static int wait_ok(void)
{
    for (;;) {
        char head[8], data[512];
        if (read_all(head, 8)) {
            fprintf(stderr, "raw_nsq: connection closed\n");
            return -1;
        }
        uint32_t size, type;
        memcpy(&size, head, 4);
        memcpy(&type, head + 4, 4);
        size = ntohl(size), type = ntohl(type);
        if (size < 4 || size - 4 >= sizeof data || read_all(data, size - 4)) {
            fprintf(stderr, "raw_nsq: bad frame (size %u)\n", size);
            return -1;
        }
        size_t len = size - 4;
        data[len] = 0;
        if (type == 0 && !strcmp(data, "OK"))
            return 0;
        if (type == 0 && !strcmp(data, "_heartbeat_")) {
            if (write_all("NOP\n", 4))
                return -1;
            continue;
        }
        fprintf(stderr, "raw_nsq: frame type %u: %s\n", type, data);
        return -1;
    }
}

/* MPUB of messages [from, from + k) into out (large enough): its length. */
static size_t build_mpub(char *out, const char *topic, size_t from, size_t k, size_t *bytes)
{
    size_t len = (size_t)sprintf(out, "MPUB %s\n", topic);
    size_t body_at = len;
    len += 8; /* body size, count */
    for (size_t i = from; i < from + k; i++) {
        const char *p = raw_payload(i, 0);
        size_t pl = strlen(p);
        put32(out + len, (uint32_t)pl);
        memcpy(out + len + 4, p, pl);
        len += 4 + pl;
        *bytes += pl;
    }
    put32(out + body_at, (uint32_t)(len - body_at - 4));
    put32(out + body_at + 4, (uint32_t)k);
    return len;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: raw_nsq HOST PORT TOPIC N [BATCH]\n");
        return 2;
    }
    const char *topic = argv[3];
    size_t n = strtoul(argv[4], NULL, 10);
    size_t batch = argc > 5 ? strtoul(argv[5], NULL, 10) : 256;
    if (!batch || strlen(topic) > 64 || raw_load())
        return 2;
    size_t maxlen = 0;
    for (size_t s = 0; s < raw_ns; s++)
        if (strlen(raw_s[s].envelope) > maxlen)
            maxlen = strlen(raw_s[s].envelope);
    char *out = malloc(80 + batch * (maxlen + 4));
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
    int one = 1;
    if (!out || inet_pton(AF_INET, argv[1], &a.sin_addr) != 1) {
        fprintf(stderr, "raw_nsq: bad address %s or out of memory\n", argv[1]);
        return 2;
    }
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) || write_all("  V2", 4)) {
        perror("raw_nsq: connect");
        return 1;
    }
    size_t bytes = 0;
    raw_start();
    for (size_t off = 0; off < n; off += batch) {
        size_t k = n - off < batch ? n - off : batch;
        size_t len = build_mpub(out, topic, off, k, &bytes);
        if (write_all(out, len) || wait_ok())
            return 1;
    }
    raw_done("nsq", n, bytes);
    close(fd);
    free(out);
    return 0;
}
