/*
 * args.c: the parts of reading a command line every `kith` command shares: the settings (through
 * the config table, src/core/config.c) and which words are flags' values. It is not for what a
 * command does.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "kith/log.h"

bool kith_cli_load_config(unsigned command, int argc, char **argv, struct kith_app_config *cfg,
                          struct kith_config **conf)
{
    size_t n;
    const struct kith_config_setting *table = kith_config_app_table(&n);
    struct kith_err err = {{0}, {0}};
    memset(cfg, 0, sizeof(*cfg));
    if (kith_config_load(table, n, command, argc, argv, cfg, conf, &err) != KITH_OK) {
        fprintf(stderr, "kith: %s\n", err.message);
        return false;
    }
    kith_log_min_level = (enum kith_log_level)cfg->log_level;
    kith_log_format = (enum kith_log_format)cfg->log_format;
    return true;
}

bool kith_cli_takes_value(const char *arg, const char *const *switches)
{
    if (strncmp(arg, "--", 2) != 0 || strchr(arg, '=') != NULL || strcmp(arg, "--help") == 0)
        return false;
    for (size_t i = 0; switches && switches[i]; i++)
        if (strcmp(arg, switches[i]) == 0)
            return false;
    return true;
}
