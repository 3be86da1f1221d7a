/* log.h -- the gateway's log: one line per message on stderr, plain text
 * or JSON (log_format = json), with MinIO-style log-once for repeats. */
#ifndef LUAGATE_LOG_H
#define LUAGATE_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_init(int json, enum log_level min);
void log_msg(enum log_level lvl, const char *source, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Like log_msg, but a message identical to the last one logged for the same
 * source is dropped (MinIO's LogOnceIf), until it changes or an hour passed. */
void log_once(enum log_level lvl, const char *source, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Route what the libraries would print on stderr themselves (libevent's
 * warnings) through log_msg, so that every line has the gateway's format. */
void log_capture_libraries(void);

#define log_debug(src, ...) log_msg(LOG_DEBUG, src, __VA_ARGS__)
#define log_info(src, ...) log_msg(LOG_INFO, src, __VA_ARGS__)
#define log_warn(src, ...) log_msg(LOG_WARN, src, __VA_ARGS__)
#define log_error(src, ...) log_msg(LOG_ERROR, src, __VA_ARGS__)

#endif
