/* fuzz_nsq_frame.c -- libFuzzer target for the nsqd frame parser.
 *
 *   clang -fsanitize=fuzzer,address,undefined -Isrc targets/nsq_proto.c \
 *         tests/fuzz/fuzz_nsq_frame.c -o fuzz_nsq_frame
 *   ./fuzz_nsq_frame -max_total_time=60 tests/fuzz/corpus/nsq_frame
 *
 * The first input byte picks a chunk size, the rest is a server byte stream
 * fed to the parser as the driver does: appended chunk by chunk, frames cut
 * off the front, the remainder kept.  Each frame is classified and taken
 * apart; a parse error ends the stream, as it ends the connection. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../targets/nsq_proto.h"

#define MAX_FRAME 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t chunk = (size_t)data[0] % 64 + 1;
    const char *in = (const char *)data + 1;
    size_t inlen = size - 1;
    char *buf = malloc(inlen + 1);
    if (!buf)
        return 0;
    size_t len = 0, fed = 0;
    char err[128], code[32];
    while (fed < inlen) {
        size_t n = inlen - fed < chunk ? inlen - fed : chunk;
        memcpy(buf + len, in + fed, n); /* a malloc'd copy: ASan sees overreads */
        len += n;
        fed += n;
        for (;;) {
            struct nsqp_frame f;
            long r = nsqp_parse(buf, len, MAX_FRAME, &f, err, sizeof err);
            if (r < 0)
                goto out;
            if (r == 0)
                break;
            if ((size_t)r > len || f.data + f.len != buf + r)
                abort();
            struct nsqp_message m;
            if (nsqp_kind(&f) == NSQP_ERROR)
                nsqp_error_code(&f, code, sizeof code);
            if (nsqp_message(&f, &m) == 0 && m.body + m.len != f.data + f.len)
                abort();
            memmove(buf, buf + r, len - (size_t)r);
            len -= (size_t)r;
        }
    }
out:
    free(buf);
    return 0;
}
