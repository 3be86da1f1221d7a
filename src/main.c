/* main.c -- placeholder while the gateway core is being written. */
#include <stdio.h>
int main(void)
{
    puts("luagate " LUAGATE_VERSION);
    return 0;
}
