/* test_nsq_proto.c -- nsqd V2 framing: builders and the incremental parser. */
#include "unit.h"
#include "../../targets/nsq_proto.h"

static char err[128];

/* A server frame: [size][type][data]. */
static size_t frame(char *out, int32_t type, const char *data, size_t len)
{
    uint32_t size = (uint32_t)len + 4;
    unsigned char h[8] = { size >> 24, size >> 16, size >> 8, size,
                           (uint32_t)type >> 24, (uint32_t)type >> 16, (uint32_t)type >> 8,
                           (uint32_t)type };
    memcpy(out, h, 8);
    memcpy(out + 8, data, len);
    return len + 8;
}

static int eq(const struct nsqp_frame *f, const char *s)
{
    return f->len == strlen(s) && !memcmp(f->data, s, f->len);
}

TEST(parse_one_frame)
{
    char b[64];
    size_t n = frame(b, 0, "OK", 2);
    struct nsqp_frame f;
    CHECK_INT(nsqp_parse(b, n, 1024, &f, err, sizeof err), 10);
    CHECK_INT(f.type, NSQP_FRAME_RESPONSE);
    CHECK(eq(&f, "OK"));
    CHECK_INT(nsqp_kind(&f), NSQP_OK);
}

TEST(partial_frames_need_more)
{
    char b[64];
    size_t n = frame(b, 0, "_heartbeat_", 11);
    struct nsqp_frame f;
    for (size_t i = 0; i < n; i++)
        CHECK_INT(nsqp_parse(b, i, 1024, &f, err, sizeof err), 0);
    CHECK_INT(nsqp_parse(b, n, 1024, &f, err, sizeof err), (long)n);
    CHECK_INT(nsqp_kind(&f), NSQP_HEARTBEAT);
}

TEST(several_frames_in_one_buffer)
{
    char b[256];
    size_t n = frame(b, 0, "_heartbeat_", 11);
    n += frame(b + n, 0, "OK", 2);
    n += frame(b + n, 1, "E_PUB_FAILED PUB failed exiting", 31);
    n += frame(b + n, 0, "CLOSE_WAIT", 10);
    n += frame(b + n, 0, "{\"tls_v1\":false}", 16);
    enum nsqp_kind want[] = { NSQP_HEARTBEAT, NSQP_OK, NSQP_ERROR, NSQP_CLOSE_WAIT,
                              NSQP_RESPONSE };
    size_t pos = 0;
    struct nsqp_frame f;
    for (int i = 0; i < 5; i++) {
        long r = nsqp_parse(b + pos, n - pos, 1024, &f, err, sizeof err);
        CHECK(r > 0);
        if (r <= 0)
            return;
        CHECK_INT(nsqp_kind(&f), want[i]);
        pos += (size_t)r;
    }
    CHECK_INT(pos, n);
    CHECK_INT(nsqp_parse(b + pos, 0, 1024, &f, err, sizeof err), 0);
}

TEST(oversized_and_undersized_size_fields)
{
    struct nsqp_frame f;
    /* 0xFFFFFFFF: refused as soon as the size is known, not waited for */
    CHECK_INT(nsqp_parse("\xff\xff\xff\xff", 4, 1 << 20, &f, err, sizeof err), -1);
    CHECK(strstr(err, "exceeds") != NULL);
    CHECK_INT(nsqp_parse("\x00\x10\x00\x01", 4, 1 << 20, &f, err, sizeof err), -1);
    CHECK_INT(nsqp_parse("\x00\x0f\xff\xfc", 4, 1 << 20, &f, err, sizeof err), 0); /* = max */
    CHECK_INT(nsqp_parse("\x00\x00\x00\x03", 4, 1 << 20, &f, err, sizeof err), -1);
    CHECK(strstr(err, "below 4") != NULL);
    CHECK_INT(nsqp_parse("\x00\x00\x00\x00", 4, 1 << 20, &f, err, sizeof err), -1);
    /* size 4: a type and no data */
    CHECK_INT(nsqp_parse("\x00\x00\x00\x04\x00\x00\x00\x00", 8, 1 << 20, &f, err, sizeof err), 8);
    CHECK_INT(f.len, 0);
    CHECK_INT(nsqp_kind(&f), NSQP_RESPONSE);
}

TEST(unknown_frame_types)
{
    char b[64];
    struct nsqp_frame f;
    size_t n = frame(b, 7, "what", 4);
    CHECK_INT(nsqp_parse(b, n, 1024, &f, err, sizeof err), (long)n);
    CHECK_INT(f.type, 7);
    CHECK_INT(nsqp_kind(&f), NSQP_UNKNOWN);
    n = frame(b, -1, "", 0);
    CHECK_INT(nsqp_parse(b, n, 1024, &f, err, sizeof err), 8);
    CHECK_INT(nsqp_kind(&f), NSQP_UNKNOWN);
}

TEST(error_frames)
{
    char b[128], code[32];
    struct nsqp_frame f;
    size_t n = frame(b, 1, "E_BAD_TOPIC PUB topic name \"a*b\" is not valid", 45);
    CHECK_INT(nsqp_parse(b, n, 1024, &f, err, sizeof err), (long)n);
    CHECK_INT(nsqp_kind(&f), NSQP_ERROR);
    CHECK_STR(nsqp_error_code(&f, code, sizeof code), "E_BAD_TOPIC");
    n = frame(b, 1, "E_INVALID", 9); /* no description */
    nsqp_parse(b, n, 1024, &f, err, sizeof err);
    CHECK_STR(nsqp_error_code(&f, code, sizeof code), "E_INVALID");
    CHECK_STR(nsqp_error_code(&f, code, 4), "E_I"); /* truncated, still terminated */
    n = frame(b, 1, "", 0);
    nsqp_parse(b, n, 1024, &f, err, sizeof err);
    CHECK_STR(nsqp_error_code(&f, code, sizeof code), "");
}

TEST(message_frames)
{
    char b[128], d[64];
    memcpy(d, "\x00\x00\x00\x01\x00\x00\x00\x02\x00\x03" "0123456789abcdefhello", 31);
    struct nsqp_frame f;
    struct nsqp_message m;
    size_t n = frame(b, 2, d, 31);
    CHECK_INT(nsqp_parse(b, n, 1024, &f, err, sizeof err), (long)n);
    CHECK_INT(nsqp_kind(&f), NSQP_MESSAGE);
    CHECK_INT(nsqp_message(&f, &m), 0);
    CHECK_INT(m.timestamp, 0x100000002LL);
    CHECK_INT(m.attempts, 3);
    CHECK_STR(m.id, "0123456789abcdef");
    CHECK(m.len == 5 && !memcmp(m.body, "hello", 5));
    n = frame(b, 2, d, 25); /* shorter than the fixed header */
    nsqp_parse(b, n, 1024, &f, err, sizeof err);
    CHECK_INT(nsqp_message(&f, &m), -1);
}

TEST(build_commands)
{
    struct nsqp_buf b = { 0 };
    CHECK_INT(nsqp_magic(&b), 0);
    CHECK_INT(nsqp_identify(&b, "{}", 2), 0);
    CHECK(b.len == 4 + 9 + 4 + 2 && !memcmp(b.data, "  V2IDENTIFY\n\x00\x00\x00\x02{}", b.len));
    nsqp_buf_reset(&b);
    CHECK_INT(nsqp_pub(&b, "events", "abc", 3), 0);
    CHECK(b.len == 18 && !memcmp(b.data, "PUB events\n\x00\x00\x00\x03" "abc", 18));
    nsqp_buf_reset(&b);
    CHECK_INT(nsqp_nop(&b), 0);
    CHECK_INT(nsqp_cls(&b), 0);
    CHECK(b.len == 8 && !memcmp(b.data, "NOP\nCLS\n", 8));
    nsqp_buf_free(&b);
}

TEST(build_mpub)
{
    struct nsqp_buf b = { 0 };
    size_t mark;
    CHECK_INT(nsqp_mpub_begin(&b, "t", 2, &mark), 0);
    CHECK_INT(nsqp_mpub_add(&b, "ab", 2), 0);
    CHECK_INT(nsqp_mpub_add(&b, "cde", 3), 0);
    nsqp_mpub_end(&b, mark);
    const char want[] = "MPUB t\n\x00\x00\x00\x11\x00\x00\x00\x02"
                        "\x00\x00\x00\x02" "ab\x00\x00\x00\x03" "cde";
    CHECK_INT(b.len, sizeof want - 1);
    CHECK(!memcmp(b.data, want, sizeof want - 1));
    CHECK_INT(nsqp_mpub_body_size(2, 5), 0x11);
    nsqp_buf_free(&b);
}

TEST(big_buffers_grow)
{
    struct nsqp_buf b = { 0 };
    size_t len = 3 * 1024 * 1024;
    char *big = malloc(len);
    CHECK(big != NULL);
    if (!big)
        return;
    memset(big, 'x', len);
    CHECK_INT(nsqp_pub(&b, "t", big, len), 0);
    CHECK_INT(b.len, 6 + 4 + len);
    CHECK(b.data[b.len - 1] == 'x');
    free(big);
    nsqp_buf_free(&b);
}

TEST(topic_names)
{
    CHECK(nsqp_topic_valid("events"));
    CHECK(nsqp_topic_valid("a.b_c-D9"));
    CHECK(nsqp_topic_valid("events#ephemeral"));
    CHECK(!nsqp_topic_valid("#ephemeral"));
    CHECK(!nsqp_topic_valid(""));
    CHECK(!nsqp_topic_valid("a b"));
    CHECK(!nsqp_topic_valid("a/b"));
    CHECK(!nsqp_topic_valid("a#b"));
    CHECK(!nsqp_topic_valid("a#ephemeralx"));
    CHECK(!nsqp_topic_valid("é"));
    char t[80];
    memset(t, 'a', 64);
    t[64] = 0;
    CHECK(nsqp_topic_valid(t));
    t[64] = 'a', t[65] = 0;
    CHECK(!nsqp_topic_valid(t));
    memset(t, 'a', 54);
    strcpy(t + 54, "#ephemeral"); /* 64 with the suffix */
    CHECK(nsqp_topic_valid(t));
}

int main(void)
{
    RUN(parse_one_frame);
    RUN(partial_frames_need_more);
    RUN(several_frames_in_one_buffer);
    RUN(oversized_and_undersized_size_fields);
    RUN(unknown_frame_types);
    RUN(error_frames);
    RUN(message_frames);
    RUN(build_commands);
    RUN(build_mpub);
    RUN(big_buffers_grow);
    RUN(topic_names);
    return unit_done();
}
