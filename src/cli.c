/* cli.c -- the commands besides running: --version, --help-target,
 * check, dlq. */
#include <MQTTAsync.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <librdkafka/rdkafka.h>
#include <lauxlib.h>
#include <lua.h>
#include <mysql.h>
#include <nats/nats.h>
#include <openssl/crypto.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#else
#include <amqp.h>
#endif
#include "cli.h"
#include "config.h"
#include "dlq.h"
#include "gateway.h"
#include "goquote.h"
#include "json.h"
#include "queue.h"
#include "script.h"

void cli_version(FILE *f)
{
    int pq = PQlibVersion();
    MQTTAsync_nameValue *paho = MQTTAsync_getVersionInfo();
    const char *paho_v = "?";
    for (; paho && paho->name; paho++)
        if (!strcmp(paho->name, "Version"))
            paho_v = paho->value;
    fprintf(f, "luagate %s\n", LUAGATE_VERSION);
    fprintf(f, "  %s\n  libevent %s\n  librdkafka %s\n  rabbitmq-c %s\n  paho.mqtt.c %s\n"
               "  cnats %s\n  hiredis %d.%d.%d\n  libpq %d.%d\n  libmariadb %s\n  %s\n"
               "  cJSON %s\n  %s\n",
            LUA_RELEASE, event_get_version(), rd_kafka_version_str(), amqp_version(), paho_v,
            nats_GetVersion(), HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH, pq / 10000, pq % 100,
            mysql_get_client_info(), curl_version(), cJSON_Version(),
            OpenSSL_version(OPENSSL_VERSION));
}

static const char *type_name(enum key_type t)
{
    static const char *names[] = { "string", "bool", "int", "uint", "duration", "url", "host:port",
                                   "list", "path" };
    return names[t];
}

static void print_keys(FILE *f, const struct kind_info *k, const struct key_spec *s, int common)
{
    for (; s && s->name; s++) {
        if (s->flags & KEY_HIDDEN)
            continue;
        char env[128], up[96];
        size_t i = 0;
        for (; s->name[i] && i < sizeof up - 1; i++)
            up[i] = (char)(s->name[i] >= 'a' && s->name[i] <= 'z' ? s->name[i] - 32 : s->name[i]);
        up[i] = 0;
        snprintf(env, sizeof env, "%s_NOTIFY_%s_%s", strcmp(k->kind, "file") ? "MINIO" : "LUAGATE",
                 k->env_kind, s->env ? s->env : up);
        fprintf(f, "  %-22s %-9s %-10s %s%s%s%s\n      env %s[_<ID>]\n", s->name, type_name(s->type),
                s->def && *s->def ? s->def : "-", s->help,
                (s->flags & KEY_REQUIRED) ? " (required)" : "",
                (s->flags & KEY_SECRET) ? " (secret)" : "",
                (s->flags & KEY_ENV_ONLY) ? " (environment only)" : "", env);
    }
    (void)common;
}

int cli_help_target(const char *kind, FILE *f)
{
    const struct kind_info *k = kind ? driver_kind(kind) : NULL;
    if (!k) {
        size_t n;
        const struct kind_info *all = driver_kinds(&n);
        fprintf(kind ? stderr : f, "%sknown kinds:", kind ? "luagate: unknown target kind; " : "");
        for (size_t i = 0; i < n; i++)
            fprintf(kind ? stderr : f, " %s", all[i].kind);
        fputc('\n', kind ? stderr : f);
        return kind ? 2 : 0;
    }
    fprintf(f, "target kind %s (ARN arn:minio:sqs::<ID>:%s)%s\n", k->kind, k->arn_kind,
            k->drv ? "" : " -- not available yet");
    fprintf(f, "  %-22s %-9s %-10s %s\n", "key", "type", "default", "meaning");
    if (k->drv)
        print_keys(f, k, k->drv->keys, 0);
    fprintf(f, " keys of every target:\n");
    print_keys(f, k, common_keys, 1);
    return 0;
}

/* ---- check -------------------------------------------------------------------- */

/* path "-" is standard input (luagate check -c CONF -). */
static int read_file(const char *path, struct buf *out)
{
    int is_stdin = !strcmp(path, "-");
    FILE *f = is_stdin ? stdin : fopen(path, "r");
    if (!f)
        return -1;
    char chunk[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (buf_put(out, chunk, n))
            rc = -1;
    if (ferror(f))
        rc = -1;
    if (!is_stdin && fclose(f))
        rc = -1;
    return rc;
}

/* Is kind one of the space separated kinds?  check prints a message's key
 * and op only for the kinds that use them (a webhook has neither). */
static int kind_uses(const char *kind, const char *kinds)
{
    size_t n = strlen(kind);
    for (const char *p = strstr(kinds, kind); p; p = strstr(p + 1, kind))
        if ((p == kinds || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
            return 1;
    return 0;
}

static void print_routed(const struct route_target *rt, const struct routed *m)
{
    struct buf payload = { 0 }, q = { 0 };
    for (int i = 0; i < m->niov; i++)
        buf_put(&payload, m->iov[i].iov_base, m->iov[i].iov_len);
    const char *key = m->key ? m->key : m->ev->key, *kind = rt[m->target].kind;
    json_quote(&q, key, m->key ? m->key_len : m->ev->key_len); /* NULs and all */
    printf("  -> %s", rt[m->target].name);
    if (kind_uses(kind, "kafka redis mysql postgres elasticsearch"))
        printf(" key=%s", q.p);
    if (kind_uses(kind, "redis mysql postgres elasticsearch"))
        printf(" op=%s", m->op ? "delete" : "upsert");
    if (m->opts)
        printf(" opts=%s", m->opts);
    printf("\n     %.*s%s", (int)(payload.len > 0 && payload.p[payload.len - 1] == '\n' ? payload.len - 1 : payload.len),
           payload.p ? payload.p : "", "\n");
    buf_free(&payload);
    buf_free(&q);
}

/* A Lua state holding luagate.rules' explain() over the configured bucket
 * rules (on its stack top), to print which rule sent an event where; NULL
 * when there are no bucket rules. */
static lua_State *explainer_new(const struct gw_config *cfg)
{
    if (!cfg->buckets.given)
        return NULL;
    lua_State *L = luaL_newstate();
    if (!L)
        return NULL;
    script_open_libs(L, NULL);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    buckets_push(L, &cfg->buckets);
    lua_setfield(L, -2, "luagate.buckets");
    lua_createtable(L, 0, (int)cfg->ntargets); /* the enabled targets and their own rules */
    for (size_t i = 0; i < cfg->ntargets; i++) {
        lua_createtable(L, 0, 3);
        const char *keys[] = { "events", "prefix", "suffix" };
        for (int k = 0; k < 3; k++) {
            lua_pushstring(L, tconf_str(cfg->targets[i], keys[k]));
            lua_setfield(L, -2, keys[k]);
        }
        lua_setfield(L, -2, cfg->targets[i]->name);
    }
    lua_setfield(L, -2, "luagate.targets");
    lua_pop(L, 1);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "luagate.rules");
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        fprintf(stderr, "luagate: luagate.rules: %s\n", lua_tostring(L, -1));
        lua_close(L);
        return NULL;
    }
    lua_getfield(L, -1, "explain");
    return L;
}

static void explain(lua_State *L, const struct event *ev)
{
    lua_pushvalue(L, -1);
    lua_createtable(L, 0, 3);
    lua_pushstring(L, ev->name);
    lua_setfield(L, -2, "name");
    lua_pushlstring(L, ev->key, ev->bucket_len);
    lua_setfield(L, -2, "bucket");
    size_t skip = ev->bucket_len + (ev->bucket_len < ev->key_len && ev->key[ev->bucket_len] == '/');
    lua_pushlstring(L, ev->key + skip, ev->key_len - skip); /* an unescaped key may hold a NUL */
    lua_setfield(L, -2, "key");
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        printf("  bucket rules: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
        return;
    }
    for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, -1); i++) {
        lua_rawgeti(L, -1, i);
        printf("  rule: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

/* Route every line of an events file and print what would be sent. */
static int check_events(struct router *r, const struct route_target *rt, const char *path,
                        lua_State *why)
{
    struct buf text = { 0 };
    if (read_file(path, &text)) {
        fprintf(stderr, "luagate: cannot read %s: %s\n", strcmp(path, "-") ? path : "standard input",
                strerror(errno));
        buf_free(&text);
        return 1;
    }
    const char *shown = strcmp(path, "-") ? path : "stdin";
    struct event_batch in = { 0 };
    struct route_out out = { 0 };
    int errors = 0, lineno = 0;
    char *save = NULL;
    for (char *line = strtok_r(text.p, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        size_t len = strlen(line);
        if (!len || line[strspn(line, " \t\r")] == 0)
            continue;
        char err[1024];
        if (event_parse(&in, line, len, err, sizeof err)) {
            printf("%s:%d: error: %s\n", shown, lineno, err);
            errors++;
            continue;
        }
        for (size_t i = 0; i < in.nev; i++) {
            printf("%s:%d: %s %s\n", shown, lineno, in.ev[i].name, in.ev[i].key);
            if (why)
                explain(why, &in.ev[i]);
            route_out_reset(&out);
            if (router_route(r, &in, &in.ev[i], &out, err, sizeof err)) {
                /* as the gateway does: router_route dropped the sends made before the error */
                printf("  script error: %s\n  -> dead-letter queue _script (sends made before the "
                       "error are dropped)\n", err);
                errors++;
                continue;
            }
            if (!out.n)
                printf("  (sent nowhere)\n");
            for (size_t j = 0; j < out.n; j++)
                print_routed(rt, &out.v[j]);
        }
    }
    route_out_free(&out);
    event_batch_free(&in);
    buf_free(&text);
    return errors ? 1 : 0;
}

/* The bucket rules as MinIO would list them (mc event list), with the
 * target each one names. */
static void print_buckets(const struct gw_config *cfg)
{
    const struct bucket_set *b = &cfg->buckets;
    if (!b->given)
        return;
    printf("bucket rules: %zu (an event of a bucket without rules goes nowhere)\n", b->n);
    for (size_t i = 0; i < b->n; i++) {
        const struct bucket_rule *r = &b->r[i];
        char name[256];
        buckets_rule_name(r, name, sizeof name);
        int on = 0;
        for (size_t j = 0; j < cfg->ntargets; j++)
            on |= !strcmp(cfg->targets[j]->name, r->target);
        printf("  %s -> %s%s  events ", name, r->target, on ? "" : " (not enabled: skipped)");
        for (size_t j = 0; j < r->nevents; j++)
            printf("%s%s", j ? "," : "", r->events[j]);
        /* quoted: a control byte in a filter would garble the terminal or forge a line */
        if (r->prefix && fputs("  prefix ", stdout) >= 0)
            goquote_print(stdout, r->prefix);
        if (r->suffix && fputs("  suffix ", stdout) >= 0)
            goquote_print(stdout, r->suffix);
        putchar('\n');
    }
}

/* Could the gateway create dir (mkdir -p) and write in it?  Nothing is
 * created: the nearest existing ancestor must be a writable directory. */
static int dir_usable(const char *dir, char *why, size_t whylen)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s", dir);
    for (;;) {
        if (stat(path, &st) == 0) {
            if (!S_ISDIR(st.st_mode))
                return snprintf(why, whylen, "%s is not a directory", path), -1;
            if (access(path, W_OK | X_OK))
                return snprintf(why, whylen, "%s is not writable: %s", path, strerror(errno)), -1;
            return 0;
        }
        if (errno != ENOENT)
            return snprintf(why, whylen, "%s: %s", path, strerror(errno)), -1;
        char *slash = strrchr(path, '/');
        if (!slash) /* a relative name: the working directory is its parent */
            snprintf(path, sizeof path, ".");
        else if (slash == path)
            path[1] = 0;
        else
            *slash = 0;
    }
}

/* What start-up would do with the queue directories, without doing it. */
static int check_queue_dirs(const struct gw_config *cfg)
{
    int bad = 0;
    for (size_t i = 0; i <= cfg->ntargets; i++) {
        const char *dir = i < cfg->ntargets ? tconf_str(cfg->targets[i], "queue_dir") : cfg->queue_dir;
        const char *who = i < cfg->ntargets ? cfg->targets[i]->name : "queue_dir";
        char why[4200];
        if (*dir && dir_usable(dir, why, sizeof why)) {
            fprintf(stderr, "luagate: %s: queue directory %s cannot be created or written: %s\n", who,
                    dir, why);
            bad = 1;
        }
    }
    return bad ? -1 : 0;
}

int cli_check(const char *config_path, int argc, char **argv)
{
    struct gw_config cfg;
    char err[1024];
    int rc = 0;
    if (config_load(&cfg, config_path, err, sizeof err)) {
        fprintf(stderr, "luagate: %s\n", err);
        return 2;
    }
    if (check_queue_dirs(&cfg)) {
        config_free(&cfg);
        return 2;
    }
    const char *script = cfg.script, *events = NULL;
    for (int i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]);
        if (n > 4 && !strcmp(argv[i] + n - 4, ".lua"))
            script = argv[i];
        else
            events = argv[i];
    }
    struct route_target *rt = gateway_route_targets(&cfg);
    struct router_limits lim = { cfg.script_memory, cfg.script_instructions, &cfg.buckets, cfg.script_env };
    if (script)
        script_set_source(script);
    struct router *r = rt ? router_new(script, rt, cfg.ntargets, &lim, err, sizeof err) : NULL;
    if (!r) {
        fprintf(stderr, "luagate: %s\n", rt ? err : "out of memory");
        free(rt);
        config_free(&cfg);
        return 2;
    }
    printf("config %s: ok, %zu target(s)\n", cfg.file ? cfg.file : "(environment)", cfg.ntargets);
    for (size_t i = 0; i < cfg.ntargets; i++) {
        char arn[256];
        config_arn(cfg.targets[i], arn, sizeof arn);
        printf("  %s  %s\n", cfg.targets[i]->name, arn);
    }
    print_buckets(&cfg);
    printf("script %s: ok\n", router_script(r));
    if (events) {
        lua_State *why = explainer_new(&cfg);
        rc = check_events(r, rt, events, why);
        if (why)
            lua_close(why);
    }
    router_free(r);
    free(rt);
    config_free(&cfg);
    return rc;
}

/* ---- dlq -------------------------------------------------------------------------- */

int cli_dlq(const char *config_path, int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[0], "list") && strcmp(argv[0], "requeue"))) {
        fprintf(stderr, "usage: luagate dlq list|requeue TARGET\n");
        return 2;
    }
    struct gw_config cfg;
    char err[1024], path[4096];
    if (config_load(&cfg, config_path, err, sizeof err)) {
        fprintf(stderr, "luagate: %s\n", err);
        return 2;
    }
    const char *target = argv[1], *dir = cfg.queue_dir;
    struct target_conf *tc = NULL;
    for (size_t i = 0; i < cfg.ntargets; i++)
        if (!strcmp(cfg.targets[i]->name, target))
            tc = cfg.targets[i];
    if (tc && *tconf_str(tc, "queue_dir"))
        dir = tconf_str(tc, "queue_dir");
    dlq_path(dir, target, path, sizeof path);
    int rc = dlq_command(dir, target, path, !strcmp(argv[0], "requeue"), tc != NULL);
    config_free(&cfg);
    return rc;
}
