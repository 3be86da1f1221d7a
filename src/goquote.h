/* goquote.h -- a string for a terminal, as Go's %q writes it.
 *
 * What a configuration holds is printed back by `luagate check`; a prefix
 * with a newline, ESC or another control character would garble the
 * terminal or forge lines.  Quoted, every such byte is a visible escape. */
#ifndef LUAGATE_GOQUOTE_H
#define LUAGATE_GOQUOTE_H

#include <stdio.h>

/* Write s between double quotes: \" \\ \a \b \f \n \r \t \v, \xNN for other
 * control bytes, DEL and bytes that are not UTF-8, \uNNNN for C1 controls
 * and the line/paragraph separators and bidirectional overrides; other
 * UTF-8 as it is.  The fputs/fprintf result of the last write. */
int goquote_print(FILE *f, const char *s);

#endif
