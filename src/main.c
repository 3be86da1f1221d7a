/* main.c -- the luagate command: run the gateway, check a configuration,
 * show versions and target keys, handle dead letters. */
#include <curl/curl.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "admin.h"
#include "cli.h"
#include "delivery.h"
#include "docgen.h"
#include "import.h"
#include "gateway.h"
#include "heartbeat.h"
#include "log.h"
#include "quarantine.h"
#include "script_watch.h"
#include "supervisor.h"

static struct gateway gw;

static void usage(FILE *f)
{
    fputs("usage: luagate [-c CONFIG] [run]                 run the gateway\n"
          "       luagate check [-c CONFIG] [--connect] [SCRIPT] [EVENTS.jsonl | -]\n"
          "                                                 validate; show what each event would send (-: events\n"
          "                                                 on standard input)\n"
          "       luagate dlq list|show|requeue|purge TARGET [--id N-M] [--since T] [--until T]\n"
          "                   [--reason P] [--bucket B] [--key P] [--json] [--admin HOST:PORT] [-c CONFIG]\n"
          "                                                 dead letters of a target, running or stopped\n"
          "       luagate import [--bucket NAME FILE]... [FILE]...\n"
          "                                                 `mc admin config get|export` output and buckets'\n"
          "                                                 `mc event list` (text, --json or S3 XML)\n"
          "                                                 -> an equivalent luagate config on stdout\n"
          "       luagate tap [--admin HOST:PORT] [--target T] [--bucket B] [--prefix P] [--event E]\n"
          "                   [--payloads] [--count N]      routing decisions of a running gateway, live\n"
          "       luagate top [--admin HOST:PORT] [--once]  a running gateway's dashboard (docs/operations.md)\n"
          "       luagate docs                              the configuration reference (Markdown)\n"
          "       luagate --help-target KIND                the keys of a target kind\n"
          "       luagate --version                         versions of luagate and its libraries\n"
          "Configuration: luagate.conf.lua (or -c), LUAGATE_* and MINIO_NOTIFY_* variables.\n"
          "run is a parent process and the worker it restarts; an event routing longer than\n"
          "script_timeout (LUAGATE_SCRIPT_TIMEOUT, default 2s) is quarantined: <queue_dir>/quarantine.\n",
          f);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct gateway *g = arg;
    if (sig == SIGHUP) {
        gateway_reload(g);
        return;
    }
    if (sig == SUPERVISOR_SIG_STOP_NOW) { /* a second SIGTERM/SIGINT to the parent */
        atomic_store(&g->http.stopping, 1);
        http_stop_now(g);
        return;
    }
    /* the parent's drain request, and the same signal straight from a
     * service manager that signals the whole group, are one request */
    if (atomic_exchange(&g->http.stopping, 1))
        return;
    log_info("luagate", "%s: finishing %zu in-flight request(s), then stopping",
             sig == SIGINT ? "SIGINT" : "SIGTERM", http_npending(g));
    http_drain(g); /* the main loop ends with worker 0's drain */
}

/* The script or a module changed on disk: the same reload as SIGHUP. */
static void on_script_change(void *arg, const char *why)
{
    log_info("script", "%s changed: reloading", why);
    gateway_reload(arg);
}

/* script_watch = on (the default) with a script file: reload on change.
 * Without inotify the gateway still runs; SIGHUP reloads. */
static void watch_script(void)
{
    char err[512];
    if (!gw.cfg.script || !gw.cfg.script_watch)
        return;
    gw.watch = script_watch_start(gw.base, gw.cfg.script, on_script_change, &gw, err, sizeof err);
    if (!gw.watch) {
        log_warn("script", "%s: SIGHUP still reloads", err);
        return;
    }
    router_files(gw.routers[0], script_watch_add, gw.watch);
}

static void on_beat(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    heartbeat_beat();
}

/* The address as bound: listen = "host:0" asks for any free port. */
static void log_listening(void)
{
    const char *colon = strrchr(gw.cfg.listen, ':');
    int hostlen = colon ? (int)(colon - gw.cfg.listen) : 0;
    char workers[48] = "";
    if (gw.http.nworkers > 1)
        snprintf(workers, sizeof workers, ", %zu ingest workers", gw.http.nworkers);
    log_info("luagate", "listening on %s://%.*s:%d/ with %zu target(s)%s, script %s",
             gw.cfg.tls_cert ? "https" : "http", hostlen, gw.cfg.listen, http_port(&gw), gw.nt, workers,
             router_script(gw.routers[0]));
}

#define NSIGS 5

static int install_signals(struct event **sigs)
{
    int signums[NSIGS] = { SIGTERM, SIGINT, SIGHUP, SUPERVISOR_SIG_DRAIN, SUPERVISOR_SIG_STOP_NOW };
    for (int i = 0; i < NSIGS; i++) {
        sigs[i] = evsignal_new(gw.base, signums[i], on_signal, &gw);
        if (!sigs[i] || event_add(sigs[i], NULL))
            return -1;
    }
    supervisor_worker_signals_ready();
    return 0;
}

static void free_events(struct event **evs, int n)
{
    for (int i = 0; i < n; i++)
        if (evs[i])
            event_free(evs[i]);
}

/* The worker process: the whole gateway, on the supervisor's sockets. */
static int worker_run(struct gw_config *cfg, int *fds)
{
    char err[1024];
    int admin_fd = fds[cfg->ingest_workers ? cfg->ingest_workers : 1];
    gw.cfg = *cfg; /* this process's copy: gateway_close frees it */
    gw.http.listen_fds = fds;
    if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
        log_error("luagate", "cannot initialise libcurl");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    if (evthread_use_pthreads() || !(gw.base = event_base_new())) {
        log_error("luagate", "cannot create the event loop");
        return 1;
    }
    if (gateway_open(&gw, err, sizeof err) || quarantine_load(gw.cfg.queue_dir, err, sizeof err)) {
        log_error("luagate", "%s", err);
        gateway_close(&gw);
        return 2;
    }
    gateway_print_arns(&gw, stdout);
    struct event *evs[NSIGS + 1] = { 0 };
    struct timeval beat = { 0, 250000 };
    if (install_signals(evs) || !(evs[NSIGS] = event_new(gw.base, -1, EV_PERSIST, on_beat, NULL)) ||
        event_add(evs[NSIGS], &beat)) {
        log_error("luagate", "cannot install signal handlers");
        free_events(evs, NSIGS + 1);
        gateway_close(&gw);
        return 1;
    }
    watch_script();
    if (http_start(&gw, err, sizeof err) || gateway_start(&gw, err, sizeof err) ||
        http_spawn(&gw, err, sizeof err) || admin_start(&gw, admin_fd, err, sizeof err)) {
        log_error("luagate", "%s", err);
        free_events(evs, NSIGS + 1);
        gateway_close(&gw);
        return 1;
    }
    atomic_store(&gw.http.ready, 1);
    heartbeat_beat();
    heartbeat_ready(1);
    log_listening();
    event_base_dispatch(gw.base);
    /* the other workers drain on their own threads (shutdown_timeout at most) */
    atomic_store(&gw.http.stopping, 1);
    http_drain(&gw);
    http_join(&gw);
    admin_stop(&gw); /* after the drain: /ready said 503 all along it */
    free_events(evs, NSIGS + 1);
    gateway_close(&gw);
    quarantine_free();
    curl_global_cleanup();
    log_info("luagate", "stopped");
    return 0;
}

static int run(const char *config_path)
{
    char err[1024];
    struct gw_config cfg = { 0 };
    if (config_load(&cfg, config_path, err, sizeof err)) {
        /* the file's log_format is unknown here; the environment's is not */
        const char *lf = getenv("LUAGATE_LOG_FORMAT");
        log_init(lf && !strcmp(lf, "json"), LOG_INFO);
        if (lf && !strcmp(lf, "json"))
            log_error("config", "%s", err);
        else
            fprintf(stderr, "luagate: %s\n", err);
        config_free(&cfg);
        return 2;
    }
    log_init(cfg.log_json, (enum log_level)cfg.log_level);
    log_capture_libraries();
    int rc = supervisor_run(&cfg, worker_run);
    config_free(&cfg);
    return rc;
}

int main(int argc, char **argv)
{
    const char *config_path = NULL;
    int i = 1;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V")) {
            cli_version(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--help-target"))
            return cli_help_target(i + 1 < argc ? argv[i + 1] : NULL, stdout);
        if (!strcmp(argv[i], "-c")) {
            if (++i >= argc) {
                usage(stderr);
                return 2;
            }
            config_path = argv[i];
            continue;
        }
        break;
    }
    const char *cmd = i < argc ? argv[i] : "run";
    /* -c may also follow the command: luagate check -c CONFIG ... */
    int out = i + 1;
    for (int j = i + 1; j < argc; j++) {
        if (!strcmp(argv[j], "-c") && j + 1 < argc)
            config_path = argv[++j];
        else
            argv[out++] = argv[j];
    }
    argc = out;
    if (!strcmp(cmd, "run"))
        return run(config_path);
    if (!strcmp(cmd, "check"))
        return cli_check(config_path, argc - i - 1, argv + i + 1);
    if (!strcmp(cmd, "import"))
        return import_main(argc - i - 1, argv + i + 1);
    if (!strcmp(cmd, "docs"))
        return docgen_main(stdout);
    if (!strcmp(cmd, "dlq"))
        return cli_dlq(config_path, argc - i - 1, argv + i + 1);
    if (!strcmp(cmd, "tap"))
        return cli_tap(config_path, argc - i - 1, argv + i + 1);
    if (!strcmp(cmd, "top"))
        return cli_top(config_path, argc - i - 1, argv + i + 1);
    fprintf(stderr, "luagate: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
