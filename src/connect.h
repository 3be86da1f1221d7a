/* connect.h -- `luagate check --connect`: every configured target probed
 * with its credentials, sending nothing. */
#ifndef LUAGATE_CONNECT_H
#define LUAGATE_CONNECT_H

#include "config.h"

/* Print one line per target (reachable / authenticated / destination).
 * 0 when every target passed, 1 otherwise. */
int connect_check(const struct gw_config *cfg);

#endif
