/* goquote.c -- a string for a terminal, as Go's %q writes it (goquote.h). */
#include <string.h>
#include "goquote.h"

/* The length of the UTF-8 sequence at s (1-4) and its code point, or 0 when
 * it is not well-formed (overlong, surrogate, beyond U+10FFFF, cut short). */
static int utf8_decode(const unsigned char *s, unsigned *cp)
{
    int n = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 0;
    if (!n || s[0] > 0xF4)
        return 0;
    unsigned c = s[0] & (0x3F >> (n - 1));
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3F);
    }
    static const unsigned min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (c < min[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return n;
}

/* Code points a terminal acts on or that reorder what follows. */
static int unsafe_cp(unsigned c)
{
    return (c >= 0x80 && c <= 0x9F) || c == 0x2028 || c == 0x2029 || (c >= 0x202A && c <= 0x202E) ||
           (c >= 0x2066 && c <= 0x2069) || c == 0xFEFF;
}

int goquote_print(FILE *f, const char *str)
{
    static const char named[] = "\a\b\f\n\r\t\v", letter[] = "abfnrtv";
    const unsigned char *s = (const unsigned char *)str;
    int rc = fputc('"', f);
    while (*s && rc >= 0) {
        unsigned cp;
        const char *nm = strchr(named, *s);
        if (*s == '"' || *s == '\\') {
            rc = fprintf(f, "\\%c", *s++);
        } else if (nm) {
            rc = fprintf(f, "\\%c", letter[nm - named]);
            s++;
        } else if (*s < 0x20 || *s == 0x7F) {
            rc = fprintf(f, "\\x%02x", *s++);
        } else if (*s < 0x80) {
            rc = fputc(*s++, f);
        } else {
            int n = utf8_decode(s, &cp);
            if (!n)
                rc = fprintf(f, "\\x%02x", *s++);
            else if (unsafe_cp(cp))
                rc = fprintf(f, "\\u%04x", cp), s += n;
            else
                rc = fprintf(f, "%.*s", n, (const char *)s), s += n;
        }
    }
    return rc < 0 ? rc : fputc('"', f);
}
