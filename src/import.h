/* import.h -- `luagate import`: turn MinIO's notification settings, as
 * `mc admin config get ALIAS notify_<kind>` prints them, into a luagate
 * configuration file.
 *
 * Usage text (for main.c and the man page):
 *
 *   luagate import [--bucket NAME FILE]... [FILE]...
 *       --bucket NAME FILE: bucket NAME's notification rules, in any of the
 *       forms import_bucket.h reads; they become the `buckets` key.
 *       Read the output of `mc admin config get ALIAS notify_<kind>` (one or
 *       more kinds, e.g. concatenated, or `mc admin config export ALIAS`) from
 *       FILE, or standard input when FILE is absent or "-", and write the
 *       equivalent luagate configuration (Lua) to standard output:
 *           mc admin config get myminio notify_kafka > minio.txt
 *           luagate import minio.txt > luagate.conf.lua && chmod 600 luagate.conf.lua
 *       Lines are read with MinIO's own KV rules; keys whose value is empty or
 *       the default are left out; problems the gateway would refuse are
 *       written as "-- WARNING: ..." comments (see them on standard error too).
 *       Exit status: 0 written (even with warnings), 1 the input cannot be read
 *       or holds no notify_* line, 2 usage error.
 */
#ifndef LUAGATE_IMPORT_H
#define LUAGATE_IMPORT_H

#include <stddef.h>
#include <stdio.h>

/* argv holds the arguments after "import":
 * [--bucket NAME FILE]... [FILE]... (no FILE, or "-": standard input). */
int import_main(int argc, char **argv);

/* One input of an import: MinIO's notify_* settings (bucket NULL) or the
 * notification configuration of one bucket (import_bucket.h's forms). */
struct import_input {
    const char *bucket;
    const char *file;   /* for messages */
    const char *text;
    size_t len;
};

/* All inputs into one configuration on out.  Returns the number of
 * warnings written, or -1 with "FILE:LINE: problem" in err when an input
 * cannot be used (no notify_* line, a bucket rule MinIO would refuse, a
 * rule naming a target the imported settings do not have). */
int import_inputs(const struct import_input *in, size_t n, FILE *out, char *err, size_t errlen);

/* The conversion itself: text (len bytes) in, configuration out.  Returns
 * the number of warnings written, or -1 with a message in err when the
 * text holds no notify_* line at all. */
int import_text(const char *text, size_t len, FILE *out, char *err, size_t errlen);

#endif
