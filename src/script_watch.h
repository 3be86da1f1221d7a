/* script_watch.h -- reload the script when its file or a module it
 * requires changes (inotify), as SIGHUP does.
 *
 * Directories are watched, not files: editors save by writing a new file
 * and renaming it over the old one, and a Kubernetes ConfigMap volume
 * swaps a `..data` symlink to a new directory, so a watch on the file
 * itself would keep watching the replaced inode.  An event whose name is
 * one of the watched files' (or a `..` name of a ConfigMap) starts a short
 * quiet period; then each file is stat()ed through its symlinks and
 * compared with what was loaded, and on a difference on_change runs once
 * for the whole burst. */
#ifndef LUAGATE_SCRIPT_WATCH_H
#define LUAGATE_SCRIPT_WATCH_H

struct event_base;
struct script_watch;

/* Called on the loop of base; why names the file that changed. */
typedef void (*script_watch_fn)(void *arg, const char *why);

/* Watch script (more files with script_watch_add).  NULL + err when
 * inotify or its directory cannot be watched. */
struct script_watch *script_watch_start(struct event_base *base, const char *script, script_watch_fn on_change,
                                        void *arg, char *err, size_t errlen);
/* Watch path as well (a module the script loaded); any thread.  The
 * signature fits router_files(). */
void script_watch_add(void *w, const char *path);
/* A reload (SIGHUP's too) reads the files now: what the watch compares
 * with from here on, so a change SIGHUP already loaded is not loaded twice. */
void script_watch_sync(struct script_watch *w);
void script_watch_stop(struct script_watch *w);

#endif
