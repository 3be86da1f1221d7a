/* qdir.c -- one name for one queue directory (qdir.h). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "qdir.h"

/* out += "/" name (name of n bytes), or up one level for ".."; "." adds nothing. */
static int append(char *out, size_t outlen, const char *name, size_t n)
{
    if (n == 1 && name[0] == '.')
        return 0;
    size_t len = strlen(out);
    if (n == 2 && name[0] == '.' && name[1] == '.') {
        char *slash = strrchr(out, '/');
        if (slash)
            *(slash == out ? slash + 1 : slash) = 0; /* the parent of "/" is "/" */
        return 0;
    }
    int sep = len && out[len - 1] != '/';
    if (len + (size_t)sep + n + 1 > outlen) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (sep)
        out[len++] = '/';
    memcpy(out + len, name, n);
    out[len + n] = 0;
    return 0;
}

/* Cut the last name off head (trailing slashes first): the offset in head
 * where that name began.  head becomes "." or "/" at the top. */
static size_t cut_last(char *head)
{
    size_t n = strlen(head);
    while (n > 1 && head[n - 1] == '/')
        n--;
    while (n > 0 && head[n - 1] != '/')
        n--;
    if (n == 0)
        strcpy(head, ".");
    else
        head[n == 1 ? 1 : n - 1] = 0; /* "/x" leaves "/" */
    return n;
}

int qdir_canon(const char *dir, char *out, size_t outlen)
{
    char head[PATH_MAX], real[PATH_MAX];
    if (!*dir)
        dir = ".";
    if (strlen(dir) >= sizeof head) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(head, dir);
    size_t rest = strlen(dir); /* dir + rest: the names that do not exist yet */
    while (!realpath(head, real)) {
        if (errno != ENOENT || !strcmp(head, ".") || !strcmp(head, "/"))
            return -1;
        rest = cut_last(head);
    }
    if (strlen(real) >= outlen) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(out, real);
    for (const char *p = dir + rest; *p;) {
        size_t len = strcspn(p, "/");
        if (len && append(out, outlen, p, len))
            return -1;
        p += len + (p[len] == '/');
    }
    return 0;
}
