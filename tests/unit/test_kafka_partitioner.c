/* test_kafka_partitioner.c -- sarama's hash partitioner (ERRATA, issue 5):
 * p = abs((int32_t)fnv1a32(key)) % n, not librdkafka's fnv1a32(key) % n. */
#include "unit.h"
#include "../../targets/kafka.h"

static int32_t P(const char *key, int32_t n) { return kafka_sarama_partition(key, strlen(key), n); }
static uint32_t H(const char *key) { return kafka_fnv1a32(key, strlen(key)); }

/* Reference values of FNV-1a 32 (the FNV test suite), plus two by hand:
 * "" -> offset basis; "a": (0x811c9dc5 ^ 0x61) * 0x01000193 mod 2^32. */
TEST(fnv1a32_vectors)
{
    CHECK_INT(H(""), 0x811c9dc5u);
    CHECK_INT(H("a"), 0xe40c292cu);
    CHECK_INT(H("foobar"), 0xbf9cf968u);
    CHECK_INT(kafka_fnv1a32("a\0b", 3), 0x10f3abd2u); /* bytes, not a C string */
}

/* Worked from the formula.  "" hashes to 0x811c9dc5 = -2128831035 as int32;
 * 2128831035 = 3 * 709610345, so sarama picks 0 of 3 where the unsigned
 * 2166136261 % 3 = 1.  "a": int32 -468965076, 468965076 % 3 = 0, unsigned
 * 3826002220 % 3 = 1. */
TEST(sarama_vectors)
{
    CHECK_INT(P("", 3), 0);
    CHECK_INT(P("", 2), 1);
    CHECK_INT(P("", 4), 3);
    CHECK_INT(P("a", 3), 0);
    CHECK_INT(P("foobar", 3), 0);
    CHECK_INT(P("bucket/obj", 3), 2);               /* 0x47b3003d: positive as int32 */
    CHECK_INT(P("test/hello world.txt", 4), 0);     /* 0x5a2d3b60 */
    CHECK_INT(P("images/docs/report final (v2).pdf", 3), 0); /* 0xb61bb291 */
    CHECK_INT(P("media-eu/logs/app.log", 3), 0);    /* 0x80e63f72 */
    CHECK_INT(P("anything", 1), 0);
    CHECK_INT(P("anything", 0), 0);
}

/* The same keys under librdkafka's unsigned formula land elsewhere. */
TEST(differs_from_unsigned)
{
    const char *keys[] = { "", "a", "foobar", "images/docs/report final (v2).pdf",
                           "media-eu/logs/app.log" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        CHECK(P(keys[i], 3) != (int32_t)(H(keys[i]) % 3));
    /* A positive int32 hash gives the same answer both ways. */
    CHECK_INT(P("bucket/obj", 3), H("bucket/obj") % 3);
}

/* Over the 60 sample keys: some disagree with 3 partitions, none with 2
 * (for n = 2, -x % 2 and x % 2 differ only in sign, and 2^32 is even). */
TEST(sample_keys)
{
    static struct sample s[64];
    size_t n = unit_samples(s, 64);
    CHECK(n == 60);
    int diff3 = 0, diff2 = 0, range = 1;
    for (size_t i = 0; i < n; i++) {
        int32_t p3 = P(s[i].key, 3);
        range &= p3 >= 0 && p3 < 3;
        diff3 += p3 != (int32_t)(H(s[i].key) % 3);
        diff2 += P(s[i].key, 2) != (int32_t)(H(s[i].key) % 2);
    }
    printf("  # %d of %zu sample keys differ from the unsigned formula with 3 partitions\n",
           diff3, n);
    CHECK(range);
    CHECK(diff3 > 0);
    CHECK_INT(diff2, 0);
    unit_samples_free(s, n);
}

int main(void)
{
    RUN(fnv1a32_vectors);
    RUN(sarama_vectors);
    RUN(differs_from_unsigned);
    RUN(sample_keys);
    return unit_done();
}
