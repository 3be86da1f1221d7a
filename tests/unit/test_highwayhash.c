/* test_highwayhash.c -- HighwayHash-256 and MinIO's Elasticsearch doc ids. */
#include <stdint.h>
#include "unit.h"
#include "../../targets/highwayhash256.h"

static const char *id_of(const char *key)
{
    static char id[45];
    hh_es_doc_id(key, strlen(key), id);
    return id;
}

/* The three vectors of reference/minio-notify.md §3.6. */
TEST(minio_doc_ids)
{
    CHECK_STR(id_of("images/myphoto.jpg"), "p6Ki67qy3lCiC8S6O7Sqg45IYNdXdtxyGnAfASuSU2c=");
    CHECK_STR(id_of("mybucket/a b/c.txt"), "tHe2_CBr0o3cZV41IIdBN3QFRTWYwVzIQbHs1BnN98A=");
    CHECK_STR(id_of("bucket/"), "4pdeX0i5CptT7cRrDiq6KwCadUbpJAodOcWchI1RVuU=");
}

/* Every length path (full packets, remainders with and without bit 16,
 * 0..3 tail bytes) gives 44 url-safe chars and differs from its neighbours. */
TEST(lengths)
{
    char buf[100], prev[45] = "", id[45];
    for (size_t n = 0; n < sizeof buf; n++) {
        buf[n] = (char)('a' + n % 26);
        hh_es_doc_id(buf, n, id);
        CHECK_INT(strlen(id), 44);
        CHECK(id[43] == '=');
        CHECK(strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == 43);
        CHECK(strcmp(id, prev) != 0);
        memcpy(prev, id, sizeof id);
    }
}

/* Key 0..31, data 0,1,2,...: digests of Debian's libhighwayhash
 * (HHStateT<HH_TARGET_Portable>, 0..129 bytes all agreed), covering full
 * packets and every kind of remainder. */
TEST(reference_vectors)
{
    static const struct {
        size_t len;
        const char *hex;
    } v[] = {
        { 0, "f574c8c22a4844dd1f35c713730146d9ff1487b9ccbeaeb3f41d75453123da41" },
        { 1, "54825fe4bc41b9ed0fc6ca3def440de2474a32cb9b1b657284e475b24c627320" },
        { 3, "5cd9d10dd7a00a48d0d111697c5e22895a86bb8b6b42a88e22c7e190c3fb3de2" },
        { 16, "1fcdb6a189d91af5d97b622ad675f0f7068af279f5d5017e9f4d176ac115d41a" },
        { 31, "4d641a6076e28068dab70fb1208b72b36ed110060612bdd0f22e4533ef14ef8a" },
        { 32, "fec3a139908ce3bc8912c1a32663d542a9aefc64f79555e3995a47c96b3cb0c9" },
        { 33, "e5a634f0cb1501f6d046cebf75ea366c90597282d3c8173b357a0011eda2da7e" },
        { 64, "7524c16affe6d890f2c1da6e192a421a02b08e1ffe65379ebecf51c3c4d7bdc1" },
        { 129, "352ed21f06f2915680b6e3db5ac225dc45dfa17f94dfcc9e6aa9018ede12ddf5" },
    };
    uint8_t key[32], data[130], out[32];
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 130; i++)
        data[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char hex[65];
        highwayhash256(key, data, v[i].len, out);
        for (int b = 0; b < 32; b++)
            snprintf(hex + 2 * b, 3, "%02x", out[b]);
        CHECK_STR(hex, v[i].hex);
    }
}

int main(void)
{
    RUN(minio_doc_ids);
    RUN(lengths);
    RUN(reference_vectors);
    return unit_done();
}
