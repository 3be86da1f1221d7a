/* docgen.h -- `luagate docs`: the configuration reference (Markdown),
 * generated from the drivers' key tables so it cannot drift from what the
 * gateway accepts.  docs/configuration.md is its output, and
 * tests/integration/test_docs.sh fails when the two differ.
 *
 * Usage text (for main.c and the man page):
 *
 *   luagate docs
 *       Print the configuration reference of every target kind (keys, types,
 *       defaults, environment variables, flags) as Markdown on standard output.
 *       Exit status 0, or 1 when standard output cannot be written.
 */
#ifndef LUAGATE_DOCGEN_H
#define LUAGATE_DOCGEN_H

#include <stdio.h>

int docgen_main(FILE *out);

#endif
