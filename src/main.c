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
#include "cli.h"
#include "delivery.h"
#include "docgen.h"
#include "import.h"
#include "gateway.h"
#include "log.h"

static struct gateway gw;
static struct event *deadline_ev;

static void usage(FILE *f)
{
    fputs("usage: luagate [-c CONFIG] [run]                 run the gateway\n"
          "       luagate check [-c CONFIG] [SCRIPT] [EVENTS.jsonl]\n"
          "                                                 validate; show what each event would send\n"
          "       luagate dlq list|requeue TARGET [-c CONFIG]  dead letters of a target\n"
          "       luagate import [FILE]                     `mc admin config get ALIAS notify_<kind>` output\n"
          "                                                 -> an equivalent luagate config on stdout\n"
          "       luagate docs                              the configuration reference (Markdown)\n"
          "       luagate --help-target KIND                the keys of a target kind\n"
          "       luagate --version                         versions of luagate and its libraries\n"
          "Configuration: luagate.conf.lua (or -c), LUAGATE_* and MINIO_NOTIFY_* variables.\n",
          f);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    log_warn("luagate", "shutdown deadline reached with %zu request(s) unanswered", gw.npending);
    event_base_loopexit(((struct gateway *)arg)->base, NULL);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct gateway *g = arg;
    if (sig == SIGHUP) {
        gateway_reload(g);
        return;
    }
    if (atomic_exchange(&g->stopping, 1)) {
        event_base_loopexit(g->base, NULL); /* a second signal: stop now */
        return;
    }
    log_info("luagate", "%s: finishing %zu in-flight request(s), then stopping",
             sig == SIGTERM ? "SIGTERM" : "SIGINT", g->npending);
    http_stop_accepting(g);
    if (!g->pending_head) {
        event_base_loopexit(g->base, NULL);
        return;
    }
    struct timeval tv = { g->cfg.shutdown_ms / 1000, (g->cfg.shutdown_ms % 1000) * 1000 };
    deadline_ev = evtimer_new(g->base, on_deadline, g);
    if (deadline_ev)
        evtimer_add(deadline_ev, &tv);
}

static int run(const char *config_path)
{
    char err[1024];
    if (config_load(&gw.cfg, config_path, err, sizeof err)) {
        fprintf(stderr, "luagate: %s\n", err);
        return 2;
    }
    log_init(gw.cfg.log_json, LOG_INFO);
    if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
        fprintf(stderr, "luagate: cannot initialise libcurl\n");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    if (evthread_use_pthreads() || !(gw.base = event_base_new())) {
        fprintf(stderr, "luagate: cannot create the event loop\n");
        return 1;
    }
    if (gateway_open(&gw, err, sizeof err)) {
        fprintf(stderr, "luagate: %s\n", err);
        gateway_close(&gw);
        return 2;
    }
    gateway_print_arns(&gw, stdout);
    struct event *sigs[3];
    int signums[3] = { SIGTERM, SIGINT, SIGHUP };
    for (int i = 0; i < 3; i++) {
        sigs[i] = evsignal_new(gw.base, signums[i], on_signal, &gw);
        if (!sigs[i] || event_add(sigs[i], NULL)) {
            fprintf(stderr, "luagate: cannot install signal handlers\n");
            return 1;
        }
    }
    if (http_start(&gw, err, sizeof err) || gateway_start(&gw, err, sizeof err)) {
        fprintf(stderr, "luagate: %s\n", err);
        for (int i = 0; i < 3; i++)
            event_free(sigs[i]);
        gateway_close(&gw);
        return 1;
    }
    atomic_store(&gw.ready, 1);
    log_info("luagate", "listening on %s://%s/ with %zu target(s), script %s",
             gw.cfg.tls_cert ? "https" : "http", gw.cfg.listen, gw.nt, router_script(gw.router));
    event_base_dispatch(gw.base);
    atomic_store(&gw.stopping, 1);
    for (int i = 0; i < 3; i++)
        event_free(sigs[i]);
    if (deadline_ev)
        event_free(deadline_ev);
    gateway_close(&gw);
    curl_global_cleanup();
    log_info("luagate", "stopped");
    return 0;
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
        return cli_import(argc - i - 1, argv + i + 1);
    if (!strcmp(cmd, "docs"))
        return cli_docs(stdout);
    if (!strcmp(cmd, "dlq"))
        return cli_dlq(config_path, argc - i - 1, argv + i + 1);
    fprintf(stderr, "luagate: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
