/*
 * config.h: the one config table. Each setting is a row (name, flag, environment variable, type,
 * default, bounds or words, secret, help) and that row alone drives the command-line flag, the
 * environment override, the config-file key, validation, `kith --help`, `kith config check` and
 * docs/config.md. Precedence: default < config file < environment < flag.
 *
 * Every value is validated here, at the layer it comes from (so an error names the flag, the
 * variable or the file and line), before any command creates anything. The table for
 * `kith serve` and its sibling commands fills struct kith_app_config (kith/app.h); the loader
 * is generic over any table and target struct, which is how it is unit tested.
 *
 * Not thread-safe: configuration is loaded once at start, before any thread runs.
 */
#ifndef KITH_CONFIG_H
#define KITH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kith/core.h"

enum kith_config_type {
    KITH_CONFIG_STRING,   /* UTF-8 text without control bytes, at most max bytes: const char * */
    KITH_CONFIG_TOKEN,    /* visible ASCII, no spaces (keys travel in headers), at most max bytes:
                             const char * */
    KITH_CONFIG_INT,      /* decimal integer in [min, max]: int64_t */
    KITH_CONFIG_BOOL,     /* on|off, true|false, yes|no, 1|0; a bare flag means on: bool */
    KITH_CONFIG_ENUM,     /* one of words: int, the word's index */
    KITH_CONFIG_CIDRS,    /* address/prefix ranges separated by commas or spaces (kith/cidr.h):
                             const char *, the text as given */
    KITH_CONFIG_URL,      /* <scheme>://<host>... with scheme one of words (kith_valid_url):
                             const char * */
    KITH_CONFIG_HOSTPORT, /* HOST:PORT or [IPv6]:PORT, port 0..65535: const char * host (no
                             brackets) at offset, int port at port_offset */
};

/* Bits of kith_config_setting.commands: which commands take a setting as a flag. Every setting
 * is read and validated from the file and the environment by every command; command 0 (used by
 * `kith config check` and the full --help) means every flag. */
#define KITH_CONFIG_CMD_SERVE (1u << 0)
#define KITH_CONFIG_CMD_KEYS (1u << 1)

struct kith_config_setting {
    const char *name; /* the file key and the name in `kith config check`: "listen" */
    const char *flag; /* "--listen", or NULL: no flag (secrets: argv is public on a host) */
    const char *env;  /* "KITH_LISTEN", or NULL */
    enum kith_config_type type;
    const char *def;          /* default, written as in a file; NULL: unset */
    const char *def_doc;      /* how the default reads in help and docs when def is NULL, or NULL */
    const char *metavar;      /* what the flag takes in --help ("PATH|URL"); NULL: from the type */
    int64_t min, max;         /* INT bounds; STRING and TOKEN: max is the longest value in bytes */
    const char *const *words; /* ENUM values, URL schemes (NULL-terminated) */
    bool secret;              /* printed as (redacted) by check; never echoed in errors */
    bool names_file;          /* this setting is the config file's path: flag and env only */
    unsigned commands;        /* KITH_CONFIG_CMD_* bits */
    size_t offset;            /* where the value goes in the target struct */
    size_t port_offset;       /* HOSTPORT: where the int port goes */
    const char *help;         /* one line, for --help and the docs table */
    const char *doc;          /* more for docs/config.md (markdown), or NULL */
};

/* The table of kith's own settings, filling struct kith_app_config. */
const struct kith_config_setting *kith_config_app_table(size_t *count);

/* Resolved settings: the text of every value and where it came from. */
struct kith_config;

/*
 * Resolves every setting of table[0..n): its default, then the config file (named by the
 * names_file setting's flag or environment variable), then the environment, then argv[0..argc)
 * (only flags of settings whose commands include command: "--name VALUE", "--name=VALUE", a bare
 * "--name" for BOOL), validating each value where it is read. Fills target (a struct laid out
 * as the table's offsets say); its strings point into *out and live until kith_config_destroy.
 * An empty value (in the file, the environment or a flag) counts as not given.
 *
 * Returns KITH_OK, or KITH_E_INVALID_PARAM with err naming the setting (param) and the place
 * ("kith.conf:3: ...", "KITH_DB_SYNC: ...", "--listen: ..."); secrets are never echoed. On
 * failure *out is NULL and target is untouched. With out NULL, only validates (target is not
 * filled, since its strings would have nowhere to live).
 */
enum kith_status kith_config_load(const struct kith_config_setting *table, size_t n,
                                  unsigned command, int argc, char **argv, void *target,
                                  struct kith_config **out, struct kith_err *err);

/* Frees what kith_config_load made; the target's strings die with it. NULL is a no-op. */
void kith_config_destroy(struct kith_config *c);

/*
 * Writes the effective settings as `name = value` lines, each with a `# <source>` comment
 * (default, the file and line, the variable, the flag); secrets show as (redacted) and URL
 * passwords as ***. Values are quoted where the file format needs it.
 */
void kith_config_write_effective(const struct kith_config *c, FILE *out);

/* Writes one line per setting taking a flag for command (or every setting when command is 0):
 * flag and value, help, default and environment variable. Settings without a flag are listed
 * by their environment variable. */
void kith_config_write_help(const struct kith_config_setting *table, size_t n, unsigned command,
                            FILE *out);

/* Writes docs/config.md: the sources and their precedence, the file format, one table row per
 * setting, the notes (doc) of each, and the commands that work with the configuration. */
void kith_config_write_docs(const struct kith_config_setting *table, size_t n, FILE *out);

/* A command as the manual page lists it. */
struct kith_config_command {
    const char *usage;   /* "kith serve [flags]" */
    const char *summary; /* one line, no final period */
};

/* Writes the manual page kith(1) in roff (docs/kith.1): the commands, every setting of the table
 * (flag, variable, file key, default, help and notes), files, signals and exit statuses. The
 * output depends only on its arguments, so a committed page can be checked against it. */
void kith_config_write_man(const struct kith_config_setting *table, size_t n,
                           const struct kith_config_command *commands, size_t ncommands,
                           const char *version, FILE *out);

#endif
