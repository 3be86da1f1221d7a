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
#include "backlog.h"
#include "cli.h"
#include "config.h"
#include "connect.h"
#include "dlq.h"
#include "gateway.h"
#include "goquote.h"
#include "json.h"
#include "sendopts.h"
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
        char env[128];
        driver_env_name(k, s, env, sizeof env);
        fprintf(f, "  %-22s %-9s %-10s %s%s%s%s\n      env %s[_<ID>]\n", s->name, type_name(s->type),
                s->def && *s->def ? s->def : "-", s->help,
                (s->flags & KEY_REQUIRED) ? " (required)" : "",
                (s->flags & KEY_SECRET) ? " (secret)" : "",
                (s->flags & KEY_ENV_ONLY) ? " (environment only)" : "", env);
    }
    (void)common;
}

/* send(target, payload, opts): the options a script may give (sendopts.c). */
static void cli_print_send_opts(FILE *f, const struct send_opt *own)
{
    fprintf(f, " send(target, payload, opts) options (others are a script error):\n");
    const struct send_opt *tabs[2] = { own, sendopts_common };
    for (int i = 0; i < 2; i++)
        for (const struct send_opt *o = tabs[i]; o && o->name; o++) {
            char want[96];
            sendopts_describe(o, want, sizeof want);
            fprintf(f, "  %-22s %s: %s\n", o->name, want, o->help);
        }
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
    print_keys(f, k, tconf_common_keys, 1);
    if (k->drv)
        cli_print_send_opts(f, k->drv->send_opts);
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

/* Start-up honesty, ahead of the start: events a queue directory holds for
 * targets the configuration no longer has (backlog.c).  Read only when no
 * gateway holds the directory; opening it recovers it as a start would. */
static void check_backlog_dir(const struct gw_config *cfg, const char *dir)
{
    char path[4200], err[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/cursors", dir);
    if (stat(path, &st) || !S_ISDIR(st.st_mode))
        return;
    struct queue *q = queue_open(dir, err, sizeof err);
    if (!q) {
        printf("queue %s: not read (%s); a gateway reports any backlog at its start\n", dir, err);
        return;
    }
    const char **names = calloc(cfg->ntargets ? cfg->ntargets : 1, sizeof *names);
    struct backlog b = { 0 };
    size_t n = 0;
    for (size_t i = 0; names && i < cfg->ntargets; i++) {
        const char *own = tconf_str(cfg->targets[i], "queue_dir");
        if (!strcmp(*own ? own : cfg->queue_dir, dir))
            names[n++] = cfg->targets[i]->name;
    }
    if (names && backlog_register(&b, q, names, n) == 0 && queue_start(q) == 0)
        backlog_report(&b, stdout);
    else
        printf("queue %s: could not be scanned for a backlog\n", dir);
    free(b.v);
    free(names);
    queue_close(q);
}

static void check_backlog(const struct gw_config *cfg)
{
    for (size_t i = 0; i <= cfg->ntargets; i++) {
        const char *dir = i < cfg->ntargets ? tconf_str(cfg->targets[i], "queue_dir") : cfg->queue_dir;
        int seen = !*dir;
        for (size_t j = 0; j < i && !seen; j++)
            seen = !strcmp(tconf_str(cfg->targets[j], "queue_dir"), dir);
        if (!seen && (i == cfg->ntargets || strcmp(dir, cfg->queue_dir)))
            check_backlog_dir(cfg, dir);
    }
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
    int connect = 0;
    for (int i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]);
        if (!strcmp(argv[i], "--connect"))
            connect = 1;
        else if (n > 4 && !strcmp(argv[i] + n - 4, ".lua"))
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
    check_backlog(&cfg);
    printf("script %s: ok\n", router_script(r));
    if (events) {
        lua_State *why = explainer_new(&cfg);
        rc = check_events(r, rt, events, why);
        if (why)
            lua_close(why);
    }
    if (connect && connect_check(&cfg))
        rc = 1;
    router_free(r);
    free(rt);
    config_free(&cfg);
    return rc;
}

/* ---- dlq --------------------------------------------------------------------------
 * `luagate dlq list|show|requeue|purge TARGET [selection]` asks the running
 * gateway (admin_dlq.c) when one answers, else works on the files, but
 * never while a gateway holds the queue directory. */

struct dlq_cmd {
    const char *action, *target, *admin;
    int json;
    struct dlq_sel sel;
};

static const char dlq_usage[] =
    "usage: luagate dlq list|show|requeue|purge TARGET [--id N|N-M|N-] [--since TIME] [--until TIME]\n"
    "                  [--reason PATTERN] [--bucket NAME] [--key PATTERN] [--json] [--admin HOST:PORT]\n";

static int dlq_args(struct dlq_cmd *d, int argc, char **argv)
{
    char err[512];
    memset(d, 0, sizeof *d);
    if (argc < 2 || (strcmp(argv[0], "list") && strcmp(argv[0], "show") && strcmp(argv[0], "requeue") &&
                     strcmp(argv[0], "purge")))
        return fputs(dlq_usage, stderr), -1;
    d->action = argv[0];
    d->target = argv[1];
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) {
            d->json = 1;
            continue;
        }
        if (strncmp(argv[i], "--", 2) || i + 1 >= argc) {
            fprintf(stderr, "luagate: dlq: unexpected '%s'\n%s", argv[i], dlq_usage);
            return -1;
        }
        if (!strcmp(argv[i], "--admin"))
            d->admin = argv[++i];
        else if (dlq_sel_set(&d->sel, argv[i] + 2, argv[i + 1], err, sizeof err))
            return fprintf(stderr, "luagate: dlq: %s\n%s", err, dlq_usage), -1;
        else
            i++;
    }
    return 0;
}

/* The dead-letter directory of a configured target (or _script); NULL
 * after saying which names are configured. */
static const char *dlq_dir(const struct gw_config *cfg, const char *target)
{
    if (!strcmp(target, "_script"))
        return cfg->queue_dir;
    for (size_t i = 0; i < cfg->ntargets; i++)
        if (!strcmp(cfg->targets[i]->name, target)) {
            const char *own = tconf_str(cfg->targets[i], "queue_dir");
            return *own ? own : cfg->queue_dir;
        }
    fprintf(stderr, "luagate: dlq: unknown target '%s'; configured:", target);
    for (size_t i = 0; i < cfg->ntargets; i++)
        fprintf(stderr, " %s", cfg->targets[i]->name);
    fprintf(stderr, " _script (events a script failed on)\n");
    return NULL;
}

/* Where the running gateway serves its dead letters: --admin, else the
 * ingest listen address.  Not admin_listen: requeue runs events through an
 * ingest worker's script, so /admin/dlq/ is served by the ingest workers
 * (with the ingest token); a wildcard address is asked on loopback. */
static void dlq_admin_url(const struct gw_config *cfg, const struct dlq_cmd *d, char *out, size_t len)
{
    const char *a = d->admin ? d->admin : cfg->listen;
    const char *colon = strrchr(a, ':');
    const char *port = colon ? colon + 1 : a;
    size_t hl = colon ? (size_t)(colon - a) : 0;
    int wild = !hl || (hl == 7 && !strncmp(a, "0.0.0.0", 7)) || (hl == 4 && !strncmp(a, "[::]", 4));
    snprintf(out, len, "%s://%.*s:%s", cfg->tls_cert && !d->admin ? "https" : "http",
             wild ? 9 : (int)hl, wild ? "127.0.0.1" : a, port);
}

static size_t dlq_curl_body(char *p, size_t size, size_t n, void *arg)
{
    return buf_put(arg, p, size * n) ? 0 : size * n;
}

/* POST the command to the gateway.  1: it answered (*code, body in
 * resp), 0: nothing answers there, -1: failed midway (err). */
static int dlq_remote(const struct gw_config *cfg, const struct dlq_cmd *d, const char *base, struct buf *resp,
                      long *code, char *err, size_t errlen)
{
    char url[1024];
    struct buf form = { 0 };
    const char *action = !strcmp(d->action, "show") ? "list" : d->action;
    snprintf(url, sizeof url, "%s/admin/dlq/%s/%s", base, d->target, action);
    CURL *k = curl_easy_init();
    struct curl_slist *h = NULL;
    char *auth = *cfg->auth_token ? config_auth_header(cfg->auth_token) : NULL, hdr[1200];
    if (auth) {
        snprintf(hdr, sizeof hdr, "Authorization: %s", auth);
        h = curl_slist_append(NULL, hdr);
    }
    int rc = -1;
    CURLcode c = !k || dlq_sel_form(&d->sel, &form) ? CURLE_OUT_OF_MEMORY : CURLE_OK;
    if (c == CURLE_OK)
        c = curl_easy_setopt(k, CURLOPT_URL, url);
    if (c == CURLE_OK)
        c = curl_easy_setopt(k, CURLOPT_POSTFIELDS, form.p ? form.p : "");
    if (c == CURLE_OK && h)
        c = curl_easy_setopt(k, CURLOPT_HTTPHEADER, h);
    if (c == CURLE_OK)
        c = curl_easy_setopt(k, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    if (c == CURLE_OK)
        c = curl_easy_setopt(k, CURLOPT_TIMEOUT_MS, 120000L);
    if (c == CURLE_OK && cfg->tls_cert && !d->admin) /* our own certificate, asked on loopback */
        c = curl_easy_setopt(k, CURLOPT_CAINFO, cfg->tls_cert) || curl_easy_setopt(k, CURLOPT_SSL_VERIFYHOST, 0L);
    if (c == CURLE_OK)
        c = curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, dlq_curl_body);
    if (c == CURLE_OK)
        c = curl_easy_setopt(k, CURLOPT_WRITEDATA, resp);
    if (c == CURLE_OK)
        c = curl_easy_perform(k);
    if (c == CURLE_OK && curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, code) == CURLE_OK)
        rc = 1;
    else if (c == CURLE_COULDNT_CONNECT)
        rc = 0;
    else
        snprintf(err, errlen, "%s: %s", base, curl_easy_strerror(c));
    curl_slist_free_all(h);
    free(auth);
    buf_free(&form);
    if (k)
        curl_easy_cleanup(k);
    return rc;
}

static int dlq_purge_fn(void *arg, struct cJSON *const *e, size_t n, char *err, size_t errlen)
{
    (void)arg, (void)e, (void)n, (void)err, (void)errlen;
    return 0;
}

/* Stopped: the command on the files, answering what the gateway would. */
static int dlq_local(const struct dlq_cmd *d, const char *dir, struct buf *resp, char *err, size_t errlen)
{
    if (!strcmp(d->action, "list") || !strcmp(d->action, "show"))
        return dlq_list(dir, d->target, &d->sel, resp, err, errlen);
    size_t taken = 0;
    int requeue = !strcmp(d->action, "requeue"), rc;
    if (requeue && !strcmp(d->target, "_script"))
        return snprintf(err, errlen, "requeue of _script runs the events through the script of the running "
                        "gateway: start luagate first"), -1;
    struct queue *q = requeue ? queue_open(dir, err, errlen) : NULL;
    struct dlq_requeue rq = { q, q ? queue_reader(q, d->target, UINT64_MAX) : NULL, 0 };
    if (requeue && (!q || !rq.r || queue_start(q))) {
        if (q)
            snprintf(err, errlen, "cannot open the queue of %s in %s", d->target, dir);
        queue_close(q);
        return -1;
    }
    rc = dlq_take(dir, d->target, &d->sel, requeue ? dlq_requeue_fn : dlq_purge_fn, &rq, &taken, err, errlen);
    queue_close(q);
    if (rc)
        return -1;
    char out[128];
    snprintf(out, sizeof out, "{\"%s\":%zu}\n", requeue ? "requeued" : "purged", taken);
    return buf_puts(resp, out);
}

static const char *dlq_str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static long dlq_num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? (long)v->valuedouble : 0;
}

static void dlq_print_list(const struct dlq_cmd *d, const cJSON *r, const char *via)
{
    const cJSON *e, *entries = cJSON_GetObjectItemCaseSensitive(r, "entries");
    printf("%s: %ld dead letter(s) in %s, %ld selected (%s)\n", d->target, dlq_num(r, "total"),
           dlq_str(r, "file"), dlq_num(r, "selected"), via);
    cJSON_ArrayForEach(e, entries) {
        if (!strcmp(d->action, "show")) {
            /* a JSON payload shown as JSON, not as one escaped string */
            cJSON *copy = cJSON_Duplicate(e, 1);
            cJSON *payload = cJSON_Parse(dlq_str(e, "payload"));
            if (copy && payload)
                cJSON_ReplaceItemInObjectCaseSensitive(copy, "payload", payload);
            else
                cJSON_Delete(payload);
            char *text = cJSON_Print(copy ? copy : e);
            printf("%s\n", text ? text : "?");
            free(text);
            cJSON_Delete(copy);
            continue;
        }
        printf("  #%ld  %s  %s  %s  attempts=%ld\n      error: %s\n", dlq_num(e, "id"), dlq_str(e, "time"),
               dlq_str(e, "event_name"), dlq_str(e, "key"), dlq_num(e, "attempts"), dlq_str(e, "error"));
    }
}

static int dlq_print(const struct dlq_cmd *d, const struct buf *resp, const char *via)
{
    if (d->json)
        return printf("%.*s", (int)resp->len, resp->p ? resp->p : ""), 0;
    cJSON *r = cJSON_ParseWithLength(resp->p ? resp->p : "", resp->len);
    if (!r)
        return fprintf(stderr, "luagate: dlq: unreadable answer: %.*s\n", (int)resp->len, resp->p), 1;
    if (!strcmp(d->action, "list") || !strcmp(d->action, "show"))
        dlq_print_list(d, r, via);
    else if (!strcmp(d->action, "requeue"))
        printf("%s: %ld dead letter(s) queued again (%s)\n", d->target, dlq_num(r, "requeued"), via);
    else
        printf("%s: %ld dead letter(s) purged (%s)\n", d->target, dlq_num(r, "purged"), via);
    cJSON_Delete(r);
    return 0;
}

static int dlq_run(const struct gw_config *cfg, const struct dlq_cmd *d, const char *dir)
{
    char base[600], err[1200], via[800];
    struct buf resp = { 0 };
    long code = 0;
    dlq_admin_url(cfg, d, base, sizeof base);
    int r = dlq_remote(cfg, d, base, &resp, &code, err, sizeof err), rc = 1;
    if (r > 0 && code != 200) {
        cJSON *e = cJSON_ParseWithLength(resp.p ? resp.p : "", resp.len);
        fprintf(stderr, "luagate: dlq: %s (HTTP %ld from %s)\n", e ? dlq_str(e, "error") : "error", code, base);
        cJSON_Delete(e);
        rc = code == 404 ? 2 : 1;
    } else if (r > 0) {
        snprintf(via, sizeof via, "through the running gateway at %s", base);
        rc = dlq_print(d, &resp, via);
    } else if (r < 0) {
        fprintf(stderr, "luagate: dlq: %s\n", err);
    } else if (dlq_queue_busy(dir)) {
        fprintf(stderr, "luagate: dlq: a running luagate holds the queue directory %s, but nothing answers at "
                "%s: name its address with --admin HOST:PORT (or LUAGATE_ADMIN_LISTEN)\n", dir, base);
    } else if (dlq_local(d, dir, &resp, err, sizeof err)) {
        fprintf(stderr, "luagate: dlq: %s\n", err);
    } else {
        snprintf(via, sizeof via, "on the files: no gateway answers at %s", base);
        rc = dlq_print(d, &resp, via);
    }
    buf_free(&resp);
    return rc;
}

int cli_dlq(const char *config_path, int argc, char **argv)
{
    struct dlq_cmd d;
    if (dlq_args(&d, argc, argv))
        return 2;
    struct gw_config cfg;
    char err[1024];
    if (config_load(&cfg, config_path, err, sizeof err)) {
        fprintf(stderr, "luagate: %s\n", err);
        return 2;
    }
    const char *dir = dlq_dir(&cfg, d.target);
    int rc = dir ? dlq_run(&cfg, &d, dir) : 2;
    config_free(&cfg);
    return rc;
}
