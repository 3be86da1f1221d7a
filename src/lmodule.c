/* lmodule.c -- placeholder for the Lua C module luagate.so. */
#include <lua.h>
#include <lauxlib.h>
int luaopen_luagate(lua_State *L);
int luaopen_luagate(lua_State *L)
{
    lua_newtable(L);
    return 1;
}
