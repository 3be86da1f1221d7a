/* qdir.h -- one name for one queue directory.
 *
 * "/q", "/q/", "./q" from /, or a symlink to /q are one directory: the
 * journal, its lock and the count of queue directories per request
 * (QUEUE_APPEND_MAX) go by the canonical name, else two spellings of one
 * directory would open one journal twice (the second open finds it locked
 * "by another luagate process") and count twice. */
#ifndef LUAGATE_QDIR_H
#define LUAGATE_QDIR_H

#include <stddef.h>

/* The absolute path of dir without symlinks, "." or "..": realpath(3) of
 * it, or of its nearest existing ancestor followed by the names still to be
 * created.  -1 (errno) when even that cannot be resolved or is too long. */
int qdir_canon(const char *dir, char *out, size_t outlen);

#endif
