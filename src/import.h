/* import.h -- `luagate import`: turn MinIO's notification settings, as
 * `mc admin config get ALIAS notify_<kind>` prints them, into a luagate
 * configuration file.
 *
 * Usage text (for main.c and the man page):
 *
 *   luagate import [FILE]
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

/* argv holds the arguments after "import": [FILE] (none or "-": stdin). */
int cli_import(int argc, char **argv);

/* The conversion itself: text (len bytes) in, configuration out.  Returns
 * the number of warnings written, or -1 with a message in err when the
 * text holds no notify_* line at all. */
int import_text(const char *text, size_t len, FILE *out, char *err, size_t errlen);

#endif
