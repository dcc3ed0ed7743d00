/*
 * cli.h: what the `kith` commands share beyond main.c's command table: loading the settings the
 * way every command does, splitting a command line into its settings and its own words, and the
 * commands that live in files of their own. Not thread-safe: a command runs once, on the main
 * thread.
 */
#ifndef KITH_CLI_H
#define KITH_CLI_H

#include <stdbool.h>

#include "kith/app.h"
#include "kith/config.h"

/* Resolves and validates every setting for command (KITH_CONFIG_CMD_*, 0: all flags) and sets the
 * log level and format; prints why and returns false on a bad one. *conf owns cfg's strings. */
bool kith_cli_load_config(unsigned command, int argc, char **argv, struct kith_app_config *cfg,
                          struct kith_config **conf);

/* True when arg is a flag that takes the next word as its value: "--db" but not "--db=x",
 * "--help" or a switch in switches (NULL-terminated, e.g. "--dry-run"). */
bool kith_cli_takes_value(const char *arg, const char *const *switches);

/* kith import participants FILE.csv [--program P] [--dry-run] [--db ...] (src/cli/import.c). */
int kith_cli_import(int argc, char **argv);

#endif
