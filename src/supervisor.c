/* supervisor.c -- the parent process of `luagate run` (supervisor.h).
 *
 * It binds the listeners (connections wait in their backlog while a worker
 * restarts), maps the heartbeat block, forks the worker and then only
 * watches: a signalfd for SIGCHLD/SIGTERM/SIGINT/SIGHUP and a tick that
 * reads the heartbeat.  A worker is started only after the previous one was
 * reaped: it takes the queue directories' locks (queue.c), and two workers
 * must never write one journal at once.
 *
 * Why a worker died decides what follows:
 *  - killed by us because an event routed longer than script_timeout, or
 *    crashed (a fatal signal, or a non-zero exit) while an event was routing:
 *    that event is quarantined (fsync'd) and a new worker starts at once;
 *    with several ingest threads, only the event of the thread that took
 *    the signal (it names itself in the heartbeat block before dying);
 *  - died before it was ready, or within a second of it: started again with
 *    a backoff (100 ms doubling to 30 s), so a broken script or a missing
 *    disk does not spin; the very first worker failing ends the gateway
 *    with its exit code, as a single process did (bad configuration: 2);
 *  - otherwise (kill -9 of the worker, the OOM killer): restarted at once,
 *    nothing quarantined, since no script is to blame. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>
#include "clock.h"
#include "gateway.h"
#include "heartbeat.h"
#include "log.h"
#include "quarantine.h"
#include "supervisor.h"

#define BACKOFF_MIN_US 100000ULL
#define BACKOFF_MAX_US 30000000ULL
#define SHORT_LIFE_US 1000000ULL  /* a worker dying sooner after ready is a start-up failure */
#define STOP_GRACE_US 5000000ULL  /* past shutdown_timeout, before SIGKILL */

struct sup {
    struct gw_config *cfg;
    supervisor_worker_fn worker;
    int fds[INGEST_WORKERS_MAX + 1]; /* the ingest workers', then the admin listener's (or -1) */
    size_t nfds;
    int admin_fd;               /* kept open until the end: /ready answers 503 while draining */
    struct heartbeat_shared *hb;
    int sfd;
    sigset_t oldmask;
    pid_t pid;                  /* the worker, 0 while none runs */
    uint64_t started_us, ready_us;
    int ever_ready, was_ready;
    unsigned failures;          /* consecutive start-up failures */
    uint64_t next_start_us;     /* 0: none pending */
    int stopping;               /* 1: drain sent, 2: stop-now sent */
    uint64_t stop_deadline_us;
    uint64_t killed_for;        /* the runaway event we killed the worker for */
    int beat_warned;
    int exit_code;
};

static void close_listeners(struct sup *s)
{
    for (size_t i = 0; i < s->nfds; i++)
        if (s->fds[i] >= 0) {
            close(s->fds[i]);
            s->fds[i] = -1;
        }
}

static void duration_text(long long ms, char *out, size_t len)
{
    if (ms % 1000 == 0)
        snprintf(out, len, "%llds", ms / 1000);
    else
        snprintf(out, len, "%lldms", ms);
}

/* ---- starting a worker ----------------------------------------------------------- */

static void worker_child(struct sup *s, pid_t parent)
{
    /* kill -9 of the parent must take the worker with it; a parent that
     * died before the prctl will never send the signal */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
        _exit(1);
    close(s->sfd);
    heartbeat_attach(s->hb);
    if (heartbeat_on_fatal_signals()) /* without it a crash quarantines every routing event */
        log_warn("supervisor", "cannot install the worker's fatal-signal handlers: %s", strerror(errno));
    exit(s->worker(s->cfg, s->fds));
}

static int start_worker(struct sup *s)
{
    for (size_t i = 0; i < INGEST_WORKERS_MAX; i++)
        atomic_store(&s->hb->slot[i].since_us, 0);
    atomic_store(&s->hb->ready, 0);
    atomic_store(&s->hb->beat_us, 0);
    atomic_store(&s->hb->crashed, 0);
    if (s->ever_ready)
        atomic_fetch_add(&s->hb->restarts, 1);
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid(), pid = fork();
    if (pid < 0) {
        log_error("supervisor", "cannot start a worker: %s", strerror(errno));
        return -1;
    }
    if (pid == 0)
        worker_child(s, parent);
    s->pid = pid;
    s->started_us = clock_mono_us();
    s->was_ready = 0;
    s->killed_for = 0;
    s->beat_warned = 0;
    s->next_start_us = 0;
    return 0;
}

/* ---- a worker ended ------------------------------------------------------------- */

static int crash_signal(int sig)
{
    return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGABRT ||
           sig == SIGSYS || sig == SIGTRAP;
}

static void status_text(int status, char *out, size_t len)
{
    if (WIFSIGNALED(status)) {
        const char *abbrev = sigabbrev_np(WTERMSIG(status));
        if (abbrev)
            snprintf(out, len, "SIG%s", abbrev);
        else
            snprintf(out, len, "signal %d", WTERMSIG(status));
    } else {
        snprintf(out, len, "exit status %d", WEXITSTATUS(status));
    }
}

static void quarantine(struct sup *s, uint64_t event, const char *reason)
{
    char err[1024];
    if (quarantine_add(s->cfg->queue_dir, event, reason, err, sizeof err)) {
        log_error("supervisor", "%s: MinIO's retry of event %016llx will run the script again", err,
                  (unsigned long long)event);
        return;
    }
    atomic_fetch_add(&s->hb->quarantined, 1);
    log_error("supervisor", "event %016llx quarantined (%s): its retry goes to the dead-letter queue _script",
              (unsigned long long)event, reason);
}

/* The events the worker was routing when it died of `status`: how many
 * were quarantined. */
static int quarantine_victims(struct sup *s, int status)
{
    char reason[256], what[64];
    if (s->killed_for) {
        char t[32];
        duration_text(s->cfg->script_timeout_ms, t, sizeof t);
        snprintf(reason, sizeof reason, "runaway: routing took longer than %s", t);
        quarantine(s, s->killed_for, reason);
        return 1;
    }
    int crashed = WIFSIGNALED(status) ? crash_signal(WTERMSIG(status)) : WEXITSTATUS(status) != 0;
    if (!crashed || !s->was_ready)
        return 0;
    status_text(status, what, sizeof what);
    snprintf(reason, sizeof reason, "the script crashed the worker: %s", what);
    /* the thread that crashed named itself (heartbeat_on_fatal_signals): only
     * its event is to blame; the others' are not acknowledged and retried.
     * Unknown (kill(2), a stack overflow with no stack left for the
     * handler): every event that was routing. */
    unsigned culprit = atomic_load(&s->hb->crashed);
    if (culprit == HEARTBEAT_CRASHED_ELSEWHERE)
        return 0; /* a thread that was not routing: no script to blame */
    int n = 0;
    for (size_t i = 0; i < INGEST_WORKERS_MAX; i++)
        if ((!culprit || culprit == i + 1) && atomic_load(&s->hb->slot[i].since_us)) {
            quarantine(s, atomic_load(&s->hb->slot[i].event), reason);
            n++;
        }
    return n;
}

static uint64_t backoff_us(unsigned failures)
{
    uint64_t d = BACKOFF_MIN_US;
    for (unsigned i = 1; i < failures && d < BACKOFF_MAX_US; i++)
        d *= 2;
    return d < BACKOFF_MAX_US ? d : BACKOFF_MAX_US;
}

/* Decide what follows a worker's end; 1: the gateway ends (exit_code set). */
static int on_worker_exit(struct sup *s, int status)
{
    char what[64];
    status_text(status, what, sizeof what);
    if (!s->was_ready && atomic_load(&s->hb->ready)) { /* ready since the last tick */
        s->was_ready = s->ever_ready = 1;
        s->ready_us = clock_mono_us();
    }
    pid_t pid = s->pid;
    s->pid = 0;
    int victims = quarantine_victims(s, status);
    if (s->stopping) {
        int ours = WIFSIGNALED(status) && (WTERMSIG(status) == SUPERVISOR_SIG_DRAIN ||
                                           WTERMSIG(status) == SUPERVISOR_SIG_STOP_NOW);
        s->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : ours ? 0 : 1;
        return 1;
    }
    if (!s->ever_ready) { /* the first worker: its error is the gateway's */
        s->exit_code = WIFEXITED(status) && WEXITSTATUS(status) ? WEXITSTATUS(status) : 1;
        return 1;
    }
    uint64_t now = clock_mono_us();
    if (!victims && (!s->was_ready || now - s->ready_us < SHORT_LIFE_US)) {
        s->failures++;
        uint64_t d = backoff_us(s->failures);
        log_error("supervisor", "worker %d ended (%s) %s; starting another in %llu ms", (int)pid, what,
                  s->was_ready ? "less than a second after it was ready" : "before it was ready (see above)",
                  (unsigned long long)(d / 1000));
        s->next_start_us = now + d;
        return 0;
    }
    s->failures = 0;
    log_warn("supervisor", "worker %d ended (%s); starting another", (int)pid, what);
    s->next_start_us = now;
    return 0;
}

static int reap(struct sup *s)
{
    int status;
    pid_t p;
    while ((p = waitpid(-1, &status, WNOHANG)) > 0)
        if (p == s->pid && on_worker_exit(s, status))
            return 1;
    return 0;
}

/* ---- watching the running worker ------------------------------------------------- */

static void check_runaway(struct sup *s, uint64_t now)
{
    uint64_t limit = (uint64_t)s->cfg->script_timeout_ms * 1000;
    for (size_t i = 0; i < INGEST_WORKERS_MAX && !s->killed_for; i++) {
        struct heartbeat_slot *sl = &s->hb->slot[i];
        uint64_t since = atomic_load_explicit(&sl->since_us, memory_order_acquire);
        if (!since || now < since || now - since < limit)
            continue;
        uint64_t event = atomic_load_explicit(&sl->event, memory_order_acquire);
        if (atomic_load_explicit(&sl->since_us, memory_order_acquire) != since)
            continue; /* it moved on meanwhile */
        s->killed_for = event;
        log_error("supervisor", "event %016llx has been routing for %llu ms in ingest worker %zu: "
                  "killing worker %d", (unsigned long long)event, (unsigned long long)((now - since) / 1000), i,
                  (int)s->pid);
        kill(s->pid, SIGKILL);
    }
}

static int any_routing(struct sup *s)
{
    for (size_t i = 0; i < INGEST_WORKERS_MAX; i++)
        if (atomic_load(&s->hb->slot[i].since_us))
            return 1;
    return 0;
}

/* A main loop that stopped turning outside the script is not the script's
 * doing (a stuck disk, a bug): say so once, kill nothing. */
static void check_beat(struct sup *s, uint64_t now)
{
    uint64_t beat = atomic_load(&s->hb->beat_us);
    uint64_t limit = 5000000 + 2 * (uint64_t)s->cfg->script_timeout_ms * 1000;
    if (!beat || now < beat || any_routing(s)) {
        s->beat_warned = 0;
        return;
    }
    if (now - beat > limit && !s->beat_warned) {
        s->beat_warned = 1;
        log_warn("supervisor", "worker %d: its event loop has not turned for %llu ms (not in the script)",
                 (int)s->pid, (unsigned long long)((now - beat) / 1000));
    } else if (now - beat <= limit) {
        s->beat_warned = 0;
    }
}

static void watch(struct sup *s)
{
    uint64_t now = clock_mono_us();
    if (!s->pid) {
        if (!s->stopping && s->next_start_us && now >= s->next_start_us)
            start_worker(s);
        return;
    }
    if (!s->was_ready && atomic_load(&s->hb->ready)) {
        s->was_ready = s->ever_ready = 1;
        s->ready_us = now;
    }
    if (s->killed_for)
        return; /* SIGKILL sent: waiting for SIGCHLD */
    check_runaway(s, now);
    check_beat(s, now);
    if (s->stopping && now > s->stop_deadline_us) {
        log_error("supervisor", "worker %d did not stop in time: killing it", (int)s->pid);
        kill(s->pid, SIGKILL);
        s->stop_deadline_us = UINT64_MAX;
    }
}

/* ---- signals ---------------------------------------------------------------------- */

/* 1: the gateway ends now (nothing to drain). */
static int on_stop_signal(struct sup *s, int sig)
{
    if (!s->stopping) {
        atomic_store(&s->hb->stopping, 1);
        close_listeners(s); /* connections from now on are refused, not left waiting */
        s->stop_deadline_us = clock_mono_us() + (uint64_t)s->cfg->shutdown_ms * 1000 + STOP_GRACE_US;
    }
    s->stopping = s->stopping < 2 ? s->stopping + 1 : 2;
    if (!s->pid) {
        log_info("luagate", "%s: stopped", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        s->exit_code = 0;
        return 1;
    }
    kill(s->pid, s->stopping == 1 ? SUPERVISOR_SIG_DRAIN : SUPERVISOR_SIG_STOP_NOW);
    return 0;
}

/* Read what the signalfd holds; 1: the gateway ends. */
static int on_signals(struct sup *s)
{
    struct signalfd_siginfo si;
    ssize_t n;
    int chld = 0;
    while ((n = read(s->sfd, &si, sizeof si)) == (ssize_t)sizeof si) {
        int sig = (int)si.ssi_signo;
        if (sig == SIGCHLD)
            chld = 1;
        else if (sig == SIGHUP && s->pid)
            kill(s->pid, SIGHUP); /* the worker reloads its script */
        else if ((sig == SIGTERM || sig == SIGINT) && on_stop_signal(s, sig))
            return 1;
    }
    return chld ? reap(s) : 0;
}

static int setup_signals(struct sup *s, char *err, size_t errlen)
{
    sigset_t set;
    sigemptyset(&set);
    int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SUPERVISOR_SIG_DRAIN, SUPERVISOR_SIG_STOP_NOW };
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
        sigaddset(&set, sigs[i]);
    /* the worker is born with these blocked too, until its handlers are in
     * place (supervisor_worker_signals_ready): none is lost or fatal early */
    if (sigprocmask(SIG_BLOCK, &set, &s->oldmask) ||
        (s->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
        snprintf(err, errlen, "cannot set up the supervisor's signals: %s", strerror(errno));
        return -1;
    }
    return 0;
}

void supervisor_worker_signals_ready(void)
{
    sigset_t set;
    sigemptyset(&set);
    int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SUPERVISOR_SIG_DRAIN, SUPERVISOR_SIG_STOP_NOW };
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
        sigaddset(&set, sigs[i]);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

/* ---- the loop ----------------------------------------------------------------------- */

static int tick_ms(struct sup *s)
{
    long long t = s->cfg->script_timeout_ms / 4;
    t = t < 5 ? 5 : t > 100 ? 100 : t;
    if (!s->pid && s->next_start_us) {
        uint64_t now = clock_mono_us();
        long long wait = s->next_start_us > now ? (long long)((s->next_start_us - now) / 1000) + 1 : 0;
        t = wait < t ? wait : t;
    }
    return (int)t;
}

static int supervise(struct sup *s)
{
    if (start_worker(s))
        return 1;
    for (;;) {
        struct pollfd p = { .fd = s->sfd, .events = POLLIN };
        if (poll(&p, 1, tick_ms(s)) < 0 && errno != EINTR) {
            log_error("supervisor", "poll: %s", strerror(errno));
            if (s->pid)
                kill(s->pid, SIGKILL);
            return 1;
        }
        if (on_signals(s))
            return s->exit_code;
        watch(s);
    }
}

int supervisor_run(struct gw_config *cfg, supervisor_worker_fn worker)
{
    struct sup s = { .cfg = cfg, .worker = worker, .sfd = -1 };
    char err[1024];
    s.nfds = cfg->ingest_workers ? cfg->ingest_workers : 1;
    if (http_bind(cfg->listen, s.nfds, s.fds, err, sizeof err)) {
        log_error("supervisor", "%s", err);
        return 1;
    }
    s.admin_fd = -1;
    if (cfg->admin_listen && http_bind(cfg->admin_listen, 1, &s.admin_fd, err, sizeof err)) {
        fprintf(stderr, "luagate: admin_listen: %s\n", err);
        close_listeners(&s);
        return 1;
    }
    s.fds[s.nfds] = s.admin_fd;
    int rc = 1;
    if (!(s.hb = heartbeat_map()))
        log_error("supervisor", "cannot map the worker's heartbeat: %s", strerror(errno));
    else if (setup_signals(&s, err, sizeof err))
        log_error("supervisor", "%s", err);
    else
        rc = supervise(&s);
    close_listeners(&s);
    if (s.admin_fd >= 0)
        close(s.admin_fd);
    if (s.sfd >= 0)
        close(s.sfd);
    if (s.hb)
        munmap(s.hb, sizeof *s.hb);
    return rc;
}
