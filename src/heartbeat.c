/* heartbeat.c -- the memory the worker and its supervisor share (heartbeat.h). */
#include <highwayhash/c_bindings.h>
#include <signal.h>
#include <stddef.h>
#include <sys/mman.h>
#include <time.h>
#include "clock.h"
#include "heartbeat.h"

struct heartbeat_shared *heartbeat_shm;
_Thread_local unsigned heartbeat_self;

static const int fatal_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS, SIGTRAP };

/* Fixed, so that an event hashes the same in every worker and after a
 * restart of the whole gateway (the quarantine list is on disk). */
static const HHKey event_key = { 0x6c75616761746531ULL, 0x71756172616e7469ULL, 0x6e6520616e206576ULL,
                                 0x656e742069642121ULL };

struct heartbeat_shared *heartbeat_map(void)
{
    void *p = mmap(NULL, sizeof(struct heartbeat_shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p; /* anonymous memory comes zeroed */
}

void heartbeat_attach(struct heartbeat_shared *hb) { heartbeat_shm = hb; }
int heartbeat_supervised(void) { return heartbeat_shm != NULL; }

uint64_t heartbeat_event_id(const char *record, size_t len)
{
    uint64_t h = HighwayHash64(event_key, record, len);
    return h ? h : 1;
}

void heartbeat_beat(void)
{
    if (heartbeat_shm)
        atomic_store_explicit(&heartbeat_shm->beat_us, clock_mono_us(), memory_order_relaxed);
}

void heartbeat_ready(int ready)
{
    if (heartbeat_shm)
        atomic_store(&heartbeat_shm->ready, ready);
}

uint64_t heartbeat_restarts(void) { return heartbeat_shm ? atomic_load(&heartbeat_shm->restarts) : 0; }
uint64_t heartbeat_quarantined(void) { return heartbeat_shm ? atomic_load(&heartbeat_shm->quarantined) : 0; }

/* Async-signal-safe: one atomic store to shared memory (a thread-local of the
 * executable is read without a call), then the signal again with its default
 * action.  A signal sent by kill(2) (SI_USER) is given to any thread that
 * does not block it, not to the culprit: the crasher stays unknown. */
static void on_fatal(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (heartbeat_shm && si->si_code != SI_USER)
        atomic_store(&heartbeat_shm->crashed, heartbeat_self ? heartbeat_self : HEARTBEAT_CRASHED_ELSEWHERE);
    /* SA_RESETHAND restored the default action: a fault re-executes and
     * dies; a raised signal is pending and delivered on return */
    raise(sig);
}

int heartbeat_on_fatal_signals(void)
{
    struct sigaction sa = { .sa_sigaction = on_fatal, .sa_flags = SA_SIGINFO | SA_RESETHAND };
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof fatal_signals / sizeof *fatal_signals; i++)
        if (sigaction(fatal_signals[i], &sa, NULL))
            return -1;
    return 0;
}
