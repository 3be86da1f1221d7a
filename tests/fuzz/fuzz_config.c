/* fuzz_config.c -- libFuzzer target for the gateway's settings: the Lua
 * config file and the MINIO_NOTIFY_* / LUAGATE_* environment (src/config.c,
 * src/targetconf.c and every driver's validate()).
 *
 *   bash tests/fuzz/run.sh 60 config
 *
 * Input: <Lua config file> NUL <environment>.  The part before the first NUL
 * byte is written to a temp file and given to config_load(); the part after
 * it is split into lines (newline or NUL) of NAME=VALUE, and those whose NAME
 * starts with MINIO_NOTIFY_ or LUAGATE_ are set with setenv() for this input
 * only (unset again afterwards; at most 64 per input).
 *
 * The config file is trusted operator input: config_load() runs it in the
 * sandbox of script_open_libs() (no io, no os.execute) but, unlike the
 * router, with no instruction budget or memory cap: the loader is not a
 * sandbox for hostile code, and `while true do end` in a config file hangs
 * `luagate` at start by design.  This target is after the parsing and the
 * validation of what the file sets, not after the Lua VM, so:
 *  - inputs whose Lua part contains `while`, `repeat`, `for`, `goto` or
 *    `function` are skipped (no loops, no recursion), and so are those with
 *    `find`, `match` or `gsub` (Lua patterns backtrack exponentially in C,
 *    where no hook can stop them);
 *  - as a second fence, the build wraps luaL_newstate (-Wl,--wrap, see
 *    run.sh) so the loader's state gets an allocator capped at 64 MiB and a
 *    count hook that raises an error after 5M instructions: what is left
 *    (`x = x .. x` doubling, load() of a built string) ends in a Lua error,
 *    which config_load reports like any other bad file.  src/ is unchanged.
 *
 * Invariants after a successful load (a violation traps): the globals are
 * set and valid, the targets are sorted, unique and of known kinds, every
 * typed key of every target reads back through the tconf_* getters, the
 * ARN and the Authorization header can be built.  After a refusal: an
 * error text.  LeakSanitizer checks config_free() frees it all. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <lauxlib.h>
#include <lua.h>
#include "config.h"
#include "script.h"

#define CHECK(c)                                                                        \
    do {                                                                                \
        if (!(c)) {                                                                     \
            fprintf(stderr, "fuzz_config: invariant failed at line %d: %s\n", __LINE__, \
                    #c);                                                                \
            __builtin_trap();                                                           \
        }                                                                               \
    } while (0)

extern char **environ;
struct route_target *gateway_route_targets(struct gw_config *cfg); /* src/gateway.c */

/* ---- the capped Lua state of the config loader (see the top) ------------------ */

#define LOADER_MEM (64u << 20)
#define LOADER_STEPS 5000000ul
static size_t loader_mem;
static unsigned long loader_steps;

static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    (void)ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        loader_mem -= old;
        return NULL;
    }
    if (nsize > old && loader_mem + (nsize - old) > LOADER_MEM)
        return NULL;
    void *p = realloc(ptr, nsize);
    if (p)
        loader_mem = loader_mem - old + nsize;
    return p;
}

static void count_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    loader_steps += 1000;
    if (loader_steps > LOADER_STEPS)
        luaL_error(L, "fuzz_config: the config file ran more than %lu instructions", LOADER_STEPS);
}

static int panic(lua_State *L)
{
    fprintf(stderr, "fuzz_config: Lua panic: %s\n", lua_tostring(L, -1));
    abort();
}

lua_State *__wrap_luaL_newstate(void);
lua_State *__wrap_luaL_newstate(void)
{
    loader_mem = 0;
    loader_steps = 0;
    lua_State *L = lua_newstate(capped_alloc, NULL);
    if (L) {
        lua_atpanic(L, panic);
        lua_sethook(L, count_hook, LUA_MASKCOUNT, 1000);
    }
    return L;
}

/* ---- input -> file + environment ------------------------------------------------ */

static char dir[256], path[300];
static int verbose; /* FUZZ_VERBOSE=1: print what config_load said */

static void cleanup(void)
{
    unlink(path);
    rmdir(dir);
}

static int ours(const char *name, size_t n)
{
    return (n > 13 && !strncmp(name, "MINIO_NOTIFY_", 13)) ||
           (n > 8 && !strncmp(name, "LUAGATE_", 8) && !(n == 15 && !strncmp(name, "LUAGATE_LUA_DIR", 15)));
}

/* Unset every MINIO_NOTIFY_* / LUAGATE_* variable but LUAGATE_LUA_DIR. */
static void clean_env(void)
{
    for (;;) {
        char name[512] = "";
        for (char **e = environ; *e; e++) {
            const char *eq = strchr(*e, '=');
            size_t n = eq ? (size_t)(eq - *e) : strlen(*e);
            if (ours(*e, n) && n < sizeof name) {
                memcpy(name, *e, n);
                name[n] = 0;
                break;
            }
        }
        if (!*name)
            return;
        unsetenv(name);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/luagate-fuzz-config-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("fuzz_config: mkdtemp");
        exit(1);
    }
    snprintf(path, sizeof path, "%s/luagate.conf.lua", dir);
    atexit(cleanup);
    clean_env();
    verbose = getenv("FUZZ_VERBOSE") != NULL;
    return 0;
}

static int has(const char *s, size_t n, const char *word)
{
    return memmem(s, n, word, strlen(word)) != NULL;
}

static void check_config(struct gw_config *c)
{
    CHECK(c->listen && c->queue_dir && c->auth_token);
    CHECK(strrchr(c->listen, ':'));
    CHECK(c->body_limit > 0 && c->script_memory > 0 && c->script_instructions > 0);
    CHECK(c->commit_window_us <= 1000000);
    if (*c->auth_token) {
        char *h = config_auth_header(c->auth_token);
        CHECK(h);
        free(h);
    }
    for (size_t i = 0; i < c->ntargets; i++) {
        const struct target_conf *t = c->targets[i];
        CHECK(t && t->kind && t->kind->kind && t->id && t->name);
        CHECK(driver_kind(t->kind->kind) == t->kind);
        const char *colon = strchr(tconf_name(t), ':');
        CHECK(colon && !strcmp(colon + 1, tconf_id(t)));
        if (i)
            CHECK(strcmp(c->targets[i - 1]->name, t->name) < 0);
        char arn[300], small[8];
        config_arn(t, arn, sizeof arn);
        config_arn(t, small, sizeof small);
        CHECK(memchr(small, 0, sizeof small));
        for (size_t k = 0; k < t->n; k++) {
            CHECK(t->kv[k].key && t->kv[k].val);
            CHECK(tconf_printable(t, t->kv[k].key));
        }
        const struct key_spec *tables[2] = { tconf_common_keys, t->kind->drv ? t->kind->drv->keys : NULL };
        for (int j = 0; j < 2; j++)
            for (const struct key_spec *s = tables[j]; s && s->name; s++) {
                CHECK(tconf_str(t, s->name));
                (void)tconf_isset(t, s->name);
                switch (s->type) {
                case KEY_BOOL: (void)tconf_bool(t, s->name); break;
                case KEY_INT:
                case KEY_UINT: (void)tconf_int(t, s->name); break;
                case KEY_DURATION: (void)tconf_ms(t, s->name); break;
                default: break;
                }
            }
    }
    struct route_target *rt = gateway_route_targets(c);
    CHECK(rt);
    for (size_t i = 0; i < c->ntargets; i++)
        CHECK(rt[i].name && rt[i].kind && rt[i].format && rt[i].events);
    free(rt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    const char *nul = memchr(in, 0, size);
    size_t lua_len = nul ? (size_t)(nul - in) : size;
    static const char *const skip[] = { "while", "repeat", "for", "goto", "function",
                                        "find", "match", "gsub", NULL };
    for (int i = 0; skip[i]; i++)
        if (has(in, lua_len, skip[i]))
            return -1; /* not added to the corpus */

    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(in, 1, lua_len, f);
    fclose(f);

    /* the environment lines */
    char *names[64];
    size_t nnames = 0;
    if (nul) {
        const char *p = nul + 1, *end = in + size;
        while (p < end && nnames < 64) {
            const char *e = p;
            while (e < end && *e != '\n' && *e)
                e++;
            const char *eq = memchr(p, '=', (size_t)(e - p));
            if (eq && ours(p, (size_t)(eq - p))) {
                char *name = strndup(p, (size_t)(eq - p)), *val = strndup(eq + 1, (size_t)(e - eq - 1));
                if (name && val && !setenv(name, val, 1))
                    names[nnames++] = name;
                else
                    free(name);
                free(val);
            }
            p = e + 1;
        }
    }

    struct gw_config c;
    char err[1024] = "";
    if (config_load(&c, path, err, sizeof err) == 0) {
        CHECK(c.file && !strcmp(c.file, path));
        check_config(&c);
        config_free(&c);
    } else {
        CHECK(*err);
    }
    if (verbose)
        fprintf(stderr, "fuzz_config: %s\n", *err ? err : "loaded");

    for (size_t i = 0; i < nnames; i++) {
        unsetenv(names[i]);
        free(names[i]);
    }
    return 0;
}
