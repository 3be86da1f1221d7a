/* sendopts.h -- send(target, payload, opts): the options a target kind
 * takes (struct driver's send_opts, plus key and op for every kind),
 * checked when the script calls send(). */
#ifndef LUAGATE_SENDOPTS_H
#define LUAGATE_SENDOPTS_H

#include <lua.h>
#include <stddef.h>
#include "driver.h"

/* key and op: read by the router itself, for every kind. */
extern const struct send_opt sendopts_common[];

/* Check the opts table at idx for a target of kind (raw reads only: no
 * metamethod runs).  0, or -1 with one line in err naming the option, what
 * it must be and what it was.  A kind whose driver is not built takes any
 * option (its table is unknown here). */
int sendopts_check(lua_State *L, int idx, const char *kind, char *err, size_t errlen);

/* "a string of 1 to 255 bytes", "an integer in 0..2": what a value must be. */
void sendopts_describe(const struct send_opt *o, char *out, size_t len);

#endif
