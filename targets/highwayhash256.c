/* highwayhash256.c -- portable HighwayHash-256, after the reference
 * c/highwayhash.c of google/highwayhash (which minio/highwayhash matches).
 * Only the 256-bit digest is needed, so only it is here. */
#include <string.h>
#include "highwayhash256.h"

struct hh_state {
    uint64_t v0[4], v1[4], mul0[4], mul1[4];
};

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void wr64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t swap32(uint64_t v) { return v >> 32 | v << 32; }

static void hh_reset(struct hh_state *s, const uint64_t key[4])
{
    static const uint64_t init0[4] = { 0xdbe6d5d5fe4cce2fULL, 0xa4093822299f31d0ULL,
                                       0x13198a2e03707344ULL, 0x243f6a8885a308d3ULL };
    static const uint64_t init1[4] = { 0x3bd39e10cb0ef593ULL, 0xc0acf169b5f18a8cULL,
                                       0xbe5466cf34e90c6cULL, 0x452821e638d01377ULL };
    for (int i = 0; i < 4; i++) {
        s->mul0[i] = init0[i];
        s->mul1[i] = init1[i];
        s->v0[i] = init0[i] ^ key[i];
        s->v1[i] = init1[i] ^ swap32(key[i]);
    }
}

static void zipper_merge_add(uint64_t v1, uint64_t v0, uint64_t *add1, uint64_t *add0)
{
    *add0 += (((v0 & 0xff000000ULL) | (v1 & 0xff00000000ULL)) >> 24) |
             (((v0 & 0xff0000000000ULL) | (v1 & 0xff000000000000ULL)) >> 16) |
             (v0 & 0xff0000ULL) | ((v0 & 0xff00ULL) << 32) |
             ((v1 & 0xff00000000000000ULL) >> 8) | (v0 << 56);
    *add1 += (((v1 & 0xff000000ULL) | (v0 & 0xff00000000ULL)) >> 24) | (v1 & 0xff0000ULL) |
             ((v1 & 0xff0000000000ULL) >> 16) | ((v1 & 0xff00ULL) << 24) |
             ((v0 & 0xff000000000000ULL) >> 8) | ((v1 & 0xffULL) << 48) |
             (v0 & 0xff00000000000000ULL);
}

static void hh_update(struct hh_state *s, const uint64_t lanes[4])
{
    for (int i = 0; i < 4; i++) {
        s->v1[i] += s->mul0[i] + lanes[i];
        s->mul0[i] ^= (s->v1[i] & 0xffffffffULL) * (s->v0[i] >> 32);
        s->v0[i] += s->mul1[i];
        s->mul1[i] ^= (s->v0[i] & 0xffffffffULL) * (s->v1[i] >> 32);
    }
    zipper_merge_add(s->v1[1], s->v1[0], &s->v0[1], &s->v0[0]);
    zipper_merge_add(s->v1[3], s->v1[2], &s->v0[3], &s->v0[2]);
    zipper_merge_add(s->v0[1], s->v0[0], &s->v1[1], &s->v1[0]);
    zipper_merge_add(s->v0[3], s->v0[2], &s->v1[3], &s->v1[2]);
}

static void hh_packet(struct hh_state *s, const uint8_t *p)
{
    uint64_t lanes[4] = { rd64(p), rd64(p + 8), rd64(p + 16), rd64(p + 24) };
    hh_update(s, lanes);
}

/* Rotate each 32-bit half of every lane left by count (1..31). */
static void rotate32_by(unsigned count, uint64_t lanes[4])
{
    for (int i = 0; i < 4; i++) {
        uint32_t h0 = (uint32_t)lanes[i], h1 = (uint32_t)(lanes[i] >> 32);
        h0 = h0 << count | h0 >> (32 - count);
        h1 = h1 << count | h1 >> (32 - count);
        lanes[i] = (uint64_t)h1 << 32 | h0;
    }
}

static void hh_remainder(struct hh_state *s, const uint8_t *bytes, size_t size_mod32)
{
    size_t size_mod4 = size_mod32 & 3;
    const uint8_t *rem = bytes + (size_mod32 & ~(size_t)3);
    uint8_t packet[32] = { 0 };
    for (int i = 0; i < 4; i++)
        s->v0[i] += ((uint64_t)size_mod32 << 32) + size_mod32;
    rotate32_by((unsigned)size_mod32, s->v1);
    memcpy(packet, bytes, (size_t)(rem - bytes));
    if (size_mod32 & 16) {
        for (int i = 0; i < 4; i++)
            packet[28 + i] = rem[i + size_mod4 - 4];
    } else if (size_mod4) {
        packet[16] = rem[0];
        packet[17] = rem[size_mod4 >> 1];
        packet[18] = rem[size_mod4 - 1];
    }
    hh_packet(s, packet);
}

static void modular_reduction(uint64_t a3u, uint64_t a2, uint64_t a1, uint64_t a0, uint64_t *m1,
                              uint64_t *m0)
{
    uint64_t a3 = a3u & 0x3FFFFFFFFFFFFFFFULL;
    *m1 = a1 ^ ((a3 << 1) | (a2 >> 63)) ^ ((a3 << 2) | (a2 >> 62));
    *m0 = a0 ^ (a2 << 1) ^ (a2 << 2);
}

void highwayhash256(const uint8_t key[32], const void *data, size_t len, uint8_t out[32])
{
    const uint8_t *p = data;
    uint64_t k[4] = { rd64(key), rd64(key + 8), rd64(key + 16), rd64(key + 24) };
    struct hh_state s;
    hh_reset(&s, k);
    size_t full = len & ~(size_t)31;
    for (size_t i = 0; i < full; i += 32)
        hh_packet(&s, p + i);
    if (len & 31)
        hh_remainder(&s, p + full, len & 31);
    for (int i = 0; i < 10; i++) {
        uint64_t perm[4] = { swap32(s.v0[2]), swap32(s.v0[3]), swap32(s.v0[0]), swap32(s.v0[1]) };
        hh_update(&s, perm);
    }
    uint64_t h[4];
    modular_reduction(s.v1[1] + s.mul1[1], s.v1[0] + s.mul1[0], s.v0[1] + s.mul0[1],
                      s.v0[0] + s.mul0[0], &h[1], &h[0]);
    modular_reduction(s.v1[3] + s.mul1[3], s.v1[2] + s.mul1[2], s.v0[3] + s.mul0[3],
                      s.v0[2] + s.mul0[2], &h[3], &h[2]);
    for (int i = 0; i < 4; i++)
        wr64(out + 8 * i, h[i]);
}

/* "HH-256 of the first 100 decimals of pi", MinIO's fixed key. */
static const uint8_t minio_es_key[32] = {
    0x4b, 0xe7, 0x34, 0xfa, 0x8e, 0x23, 0x8a, 0xcd, 0x26, 0x3e, 0x83, 0xe6, 0xbb, 0x96, 0x85, 0x52,
    0x04, 0x0f, 0x93, 0x5d, 0xa3, 0x9f, 0x44, 0x14, 0x97, 0xe0, 0x9d, 0x13, 0x22, 0xde, 0x36, 0xa0,
};

void hh_es_doc_id(const char *key, size_t len, char out[45])
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint8_t d[33];
    highwayhash256(minio_es_key, key, len, d);
    d[32] = 0;
    char *o = out;
    for (int i = 0; i < 33; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];
        *o++ = b64[v >> 18 & 63];
        *o++ = b64[v >> 12 & 63];
        *o++ = b64[v >> 6 & 63];
        *o++ = b64[v & 63];
    }
    out[43] = '=';
    out[44] = 0;
}
