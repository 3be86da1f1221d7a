/* fuzz_import_bucket.c -- libFuzzer target for `luagate import --bucket`'s
 * readers (src/import_bucket.c: the S3 XML, mc event list text and --json)
 * and the validation after them (src/buckets.c).
 *
 *   bash tests/fuzz/run.sh 60 import_bucket
 *
 * Invariants (a violation traps): the parse returns 0 or -1; -1 leaves a
 * message that starts with the file name; every rule it read belongs to the
 * bucket and has a line number within the input; validation returns 0 or -1
 * with a message naming the bucket; nothing leaks (LeakSanitizer). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "import_bucket.h"

#define CHECK(c)                                                                          \
    do {                                                                                  \
        if (!(c)) {                                                                       \
            fprintf(stderr, "fuzz_import_bucket: invariant failed at line %d: %s\n",      \
                    __LINE__, #c);                                                        \
            __builtin_trap();                                                             \
        }                                                                                 \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bucket_set b = { 0 };
    char err[1024] = "";
    /* lines as the readers count them: expat also ends one at a lone CR */
    int lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n' || (data[i] == '\r' && (i + 1 == size || data[i + 1] != '\n'));
    int rc = import_bucket_parse(&b, "bkt", "in", (const char *)data, size, err, sizeof err);
    CHECK(rc == 0 || rc == -1);
    if (rc)
        CHECK(!strncmp(err, "in", 2));
    for (size_t i = 0; i < b.n; i++) {
        CHECK(!strcmp(b.r[i].bucket, "bkt"));
        CHECK(b.r[i].line >= 1 && b.r[i].line <= lines);
    }
    if (!rc && b.n) {
        err[0] = 0;
        rc = buckets_validate(&b, err, sizeof err);
        CHECK(rc == 0 || (rc == -1 && strstr(err, "bucket 'bkt'") && b.bad < b.n));
    }
    buckets_free(&b);
    return 0;
}
