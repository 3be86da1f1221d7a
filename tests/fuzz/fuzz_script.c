/* fuzz_script.c -- libFuzzer target for the router's guards: the input is a
 * routing script (Lua source, mutated from tests/fuzz/corpus/script/, the
 * attack scripts and small routers), loaded with small caps (2 MiB of
 * memory, 200,000 instructions) and run on three sample events.
 *
 *   bash tests/fuzz/run.sh 60 script
 *
 * Invariants checked (a violation traps, so libFuzzer keeps the input):
 *  - loading either works or fails with a message;
 *  - routing either works or fails with a message (never a crash, a hang
 *    past the budget, an abort from an unprotected error);
 *  - every message has a known target and 1..4 pieces;
 *  - the state never holds more than its cap.
 * What the budget cannot bound (one pattern match with exponential
 * backtracking) shows as a libFuzzer timeout: that is the supervisor's. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <lua.h>
#include "event.h"
#include "json.h"
#include "script.h"

#define CHECK(c)                                                                        \
    do {                                                                                \
        if (!(c)) {                                                                     \
            fprintf(stderr, "fuzz_script: invariant failed at line %d: %s\n", __LINE__, \
                    #c);                                                                \
            __builtin_trap();                                                           \
        }                                                                               \
    } while (0)

#define MEM_CAP (2u << 20)

static struct route_target targets[] = {
    { "webhook:1", "webhook", "", "", "", "", SHAPE_ENVELOPE },
    { "redis:acc", "redis", "access", "", "", "", SHAPE_REDIS_ACCESS },
    { "file:out", "file", "", "", "", "", SHAPE_ENVELOPE },
};
#define NTARGETS (sizeof targets / sizeof targets[0])

static const char BODY[] =
    "{\"Records\":["
    "{\"eventName\":\"s3:ObjectCreated:Put\",\"eventTime\":\"2026-11-21T08:00:02.653Z\","
    "\"s3\":{\"bucket\":{\"name\":\"images\"},\"object\":{\"key\":\"a+b%2Fc.jpg\",\"size\":26,"
    "\"userMetadata\":{\"content-type\":\"image/jpeg\"}}}},"
    "{\"eventName\":\"s3:ObjectRemoved:Delete\",\"eventTime\":\"2026-11-21T08:00:03Z\","
    "\"s3\":{\"bucket\":{\"name\":\"logs\"},\"object\":{\"key\":\"attack%2Fx\"}}},"
    "{\"eventName\":\"s3:ObjectAccessed:Get\",\"eventTime\":\"2026-11-21T08:00:04Z\","
    "\"s3\":{\"bucket\":{\"name\":\"b\"},\"object\":{\"key\":\"k\",\"size\":1234567890123456789012345678901234567890123456789012345678901234567890}}}]}";

static char path[256];
static struct event_batch in;
static struct route_out out;

static void remove_script(void)
{
    if (*path)
        unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/luagate-fuzz-script-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        perror("fuzz_script: the script file");
        exit(1);
    }
    close(fd);
    atexit(remove_script);
    char err[512];
    if (event_parse(&in, BODY, sizeof BODY - 1, err, sizeof err)) {
        fprintf(stderr, "fuzz_script: the sample body: %s\n", err);
        exit(1);
    }
    return 0;
}

static int write_script(const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int ok = fwrite(data, 1, size, f) == size;
    return fclose(f) == 0 && ok ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (write_script(data, size))
        return 0;
    struct router_limits lim = { .mem_bytes = MEM_CAP, .instructions = 200000, .env_allow = "HOME" };
    char err[1024] = "";
    struct router *r = router_new(path, targets, NTARGETS, &lim, err, sizeof err);
    if (!r) {
        CHECK(*err);
        return 0;
    }
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < in.nev; i++) {
            route_out_reset(&out);
            err[0] = 0;
            if (router_route(r, &in, &in.ev[i], &out, err, sizeof err)) {
                CHECK(*err && memchr(err, 0, sizeof err));
                continue;
            }
            for (size_t k = 0; k < out.n; k++) {
                CHECK(out.v[k].target >= 0 && (size_t)out.v[k].target < NTARGETS);
                CHECK(out.v[k].niov >= 1 && out.v[k].niov <= 4);
            }
            CHECK(lua_gc(*(lua_State **)r, LUA_GCCOUNT, 0) <= (int)(MEM_CAP >> 10) + 1);
        }
    route_out_free(&out);
    router_free(r);
    return 0;
}
