/* cli.h -- luagate's commands other than running the gateway. */
#ifndef LUAGATE_CLI_H
#define LUAGATE_CLI_H

#include <stdio.h>

void cli_version(FILE *f);
int cli_help_target(const char *kind, FILE *f);
int cli_check(const char *config_path, int argc, char **argv);
int cli_dlq(const char *config_path, int argc, char **argv);
int cli_tap(const char *config_path, int argc, char **argv); /* cli_tap.c */
int cli_top(const char *config_path, int argc, char **argv); /* cli_top.c */

#endif
