/* log.c -- timestamped log lines on stderr, safe from any thread. */
#include <event2/event.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "log.h"

static int log_json;
static enum log_level log_min = LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

#define ONCE_SLOTS 64
static struct {
    char source[64];
    char text[512];
    time_t when;
} once[ONCE_SLOTS];

void log_init(int json, enum log_level min)
{
    log_json = json;
    log_min = min;
}

static const char *level_name(enum log_level l)
{
    static const char *names[] = { "debug", "info", "warn", "error" };
    return names[l];
}

static void json_quote(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* A text log line is one line whatever it quotes: an object key or a
 * server's answer holding a newline must not forge a line of its own, nor
 * an escape sequence rewrite the operator's terminal. */
static void text_put(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\n')
            fputs("\\n", f);
        else if (c == '\r')
            fputs("\\r", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\x%02x", c);
        else
            fputc(c, f);
    }
}

static void emit(enum log_level lvl, const char *source, const char *text)
{
    struct timespec ts;
    struct tm tm;
    char stamp[40];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(stamp + n, sizeof stamp - n, ".%03ldZ", ts.tv_nsec / 1000000);
    flockfile(stderr);
    if (log_json) {
        fprintf(stderr, "{\"time\":\"%s\",\"level\":\"%s\",\"source\":", stamp, level_name(lvl));
        json_quote(stderr, source ? source : "luagate");
        fputs(",\"msg\":", stderr);
        json_quote(stderr, text);
        fputs("}\n", stderr);
    } else {
        fprintf(stderr, "%s %-5s ", stamp, level_name(lvl));
        text_put(stderr, source ? source : "luagate");
        fputs(": ", stderr);
        text_put(stderr, text);
        fputc('\n', stderr);
    }
    funlockfile(stderr);
}

void log_msg(enum log_level lvl, const char *source, const char *fmt, ...)
{
    if (lvl < log_min)
        return;
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    emit(lvl, source, text);
}

void log_once(enum log_level lvl, const char *source, const char *fmt, ...)
{
    if (lvl < log_min)
        return;
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    const char *src = source ? source : "luagate";
    time_t now = time(NULL);
    int slot = -1, oldest = 0;
    pthread_mutex_lock(&log_lock);
    for (int i = 0; i < ONCE_SLOTS; i++) {
        if (!strcmp(once[i].source, src)) {
            slot = i;
            break;
        }
        if (once[i].when < once[oldest].when)
            oldest = i;
    }
    int repeat = slot >= 0 && !strcmp(once[slot].text, text) && now - once[slot].when < 3600;
    if (!repeat) {
        if (slot < 0)
            slot = oldest;
        snprintf(once[slot].source, sizeof once[slot].source, "%s", src);
        snprintf(once[slot].text, sizeof once[slot].text, "%s", text);
        once[slot].when = now;
    }
    pthread_mutex_unlock(&log_lock);
    if (!repeat)
        emit(lvl, src, text);
}

/* libevent calls this instead of writing "[warn] ..." on stderr itself. */
static void on_libevent_log(int severity, const char *msg)
{
    enum log_level l = severity == EVENT_LOG_DEBUG ? LOG_DEBUG
                       : severity == EVENT_LOG_MSG ? LOG_INFO
                       : severity == EVENT_LOG_WARN ? LOG_WARN : LOG_ERROR;
    log_msg(l, "libevent", "%s", msg);
}

void log_capture_libraries(void)
{
    event_set_log_callback(on_libevent_log);
}
