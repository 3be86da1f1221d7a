/* spare.h -- a pre-zeroed journal segment kept ready by a background thread.
 *
 * fdatasync after appending to a file must also write the file's new size
 * and block allocation; after overwriting zeros already on disk it writes
 * only the data.  On this class of machine that halves the time of a group
 * commit (limits.md §4), and the commit is what every request waits for.
 * So the journal writes into segments whose zeros were written and synced
 * beforehand, off the request path, by this thread. */
#ifndef LUAGATE_SPARE_H
#define LUAGATE_SPARE_H
#include <stddef.h>

struct spare;

/* Start the thread for dir (the spare is named "spare.tmp"; any stale one
 * is removed).  It writes nothing until spare_want: a gateway that never
 * sees traffic costs no disk.  It only prepares while the filesystem has
 * at least 4 * bytes free, so it never fills a small disk.  NULL on
 * failure (the journal then appends to plain files, only slower). */
struct spare *spare_start(const char *dir, size_t bytes);
/* Traffic came (rate: bytes/s the journal is written at): keep one file
 * of `bytes` zeros ready from now on, written at twice that rate. */
void spare_want(struct spare *s, double rate);
/* Non-zero when a spare is ready (no lock: a hint for rotating early). */
int spare_ready(struct spare *s);
/* Rename the ready spare to path and return it open for writing (the
 * thread then prepares the next one); -1 if none is ready (or the rename
 * failed). */
int spare_take(struct spare *s, const char *path, double rate);
/* Offer a segment every reader has passed (instead of deleting it): 0 if
 * it was taken (renamed away) to be zeroed again as the next spare, -1 if
 * the caller should delete it (one is already waiting). */
int spare_recycle(struct spare *s, const char *path);
/* Stop the thread and remove a spare nobody took. */
void spare_stop(struct spare *s);

#endif
