/* import_bucket.h -- one bucket's notification configuration, as MinIO
 * and mc show it, read into bucket rules for `luagate import --bucket`. */
#ifndef LUAGATE_IMPORT_BUCKET_H
#define LUAGATE_IMPORT_BUCKET_H

#include <stddef.h>
#include "buckets.h"

/* Append to b the rules of bucket held in text, in whichever form it is
 * (detected from its first character):
 *   '<'  the NotificationConfiguration XML of GetBucketNotificationConfiguration
 *        (QueueConfiguration: Id, Filter/S3Key/FilterRule Name+Value, Event, Queue);
 *   '{'  `mc event list ALIAS/BUCKET --json`: one object per rule, one per line
 *        when piped, indented on a terminal ({"status","id","event","prefix","suffix","arn"});
 *   else `mc event list ALIAS/BUCKET`: one line per rule,
 *        `<ARN>   <event>,<event>   Filter: prefix="<p>"suffix="<s>"`.
 * Each rule records its line.  0, or -1 with "FILE:LINE: problem" in err. */
int import_bucket_parse(struct bucket_set *b, const char *bucket, const char *file, const char *text,
                        size_t len, char *err, size_t errlen);

#endif
