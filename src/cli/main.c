/*
 * main.c: the `kith` command. A command table maps names to functions; the config table
 * (src/core/config.c) drives every setting's flag, environment variable, config-file key,
 * validation and --help, so a command only says which settings it takes and what it does with
 * them. Precedence: default < config file < environment < flag. A bad setting exits 2 before
 * anything is created; a failure while running exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "kith/app.h"
#include "kith/clock.h"
#include "kith/config.h"
#include "kith/crypto.h"
#include "kith/engine.h"
#include "kith/log.h"
#include "kith/store.h"

#define KITH_VERSION "0.1.0"

static bool is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

static int cmd_serve(int argc, char **argv)
{
    struct kith_app_config cfg;
    struct kith_config *conf = NULL;
    if (!kith_cli_load_config(KITH_CONFIG_CMD_SERVE, argc, argv, &cfg, &conf))
        return 2;
    /* stderr (diagnostics and the access log) is buffered and flushed by the server every
     * 200 ms, so a busy server makes no syscall per request for its log. */
    static char logbuf[1 << 16];
    setvbuf(stderr, logbuf, _IOFBF, sizeof(logbuf));
    int rc = kith_app_run(&cfg);
    fflush(stderr);
    kith_config_destroy(conf);
    return rc;
}

struct key_job {
    bool publishable;
    char key[64];
};

static enum kith_status key_job(struct kith_tx *tx, void *arg)
{
    struct key_job *k = arg;
    return kith_engine_key_create(tx, k->publishable, k->key, kith_clock_now_ms());
}

static int cmd_keys(int argc, char **argv)
{
    struct kith_err err = {{0}, {0}};
    struct kith_store *store = NULL;
    struct kith_config *conf = NULL;
    struct kith_app_config cfg;
    struct key_job k = {.publishable = false};
    int rc = 2;
    if (argc < 1 || strcmp(argv[0], "create") != 0) {
        fprintf(stderr, "usage: kith keys create [--publishable] [--db PATH] (see kith keys "
                        "--help)\n");
        return 2;
    }
    /* --publishable is this command's own switch, not a setting. */
    char **rest = calloc((size_t)argc, sizeof(*rest));
    int nrest = 0;
    if (rest == NULL)
        abort();
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--publishable") == 0)
            k.publishable = true;
        else
            rest[nrest++] = argv[a];
    }
    if (!kith_cli_load_config(KITH_CONFIG_CMD_KEYS, nrest, rest, &cfg, &conf))
        goto out;
    rc = 1;
    if (kith_crypto_init(&err) != KITH_OK ||
        kith_store_open(cfg.db_path, &store, &err) != KITH_OK) {
        fprintf(stderr, "kith: %s\n", err.message);
        goto out;
    }
    enum kith_status st = kith_store_run(store, key_job, &k);
    kith_store_close(store);
    if (st != KITH_OK) {
        fprintf(stderr, "kith: could not create the key (%s)\n", kith_status_code(st));
        goto out;
    }
    printf("%s\n", k.key);
    kith_crypto_wipe(k.key, sizeof(k.key));
    rc = 0;
out:
    free(rest);
    kith_config_destroy(conf);
    return rc;
}

/* kith backup [--db PATH] OUT: a consistent copy of a live SQLite database. */
static int cmd_backup(int argc, char **argv)
{
    struct kith_err err = {{0}, {0}};
    struct kith_config *conf = NULL;
    struct kith_app_config cfg;
    const char *out_path = NULL;
    int rc = 2;
    /* OUT is the one argument that is neither a flag nor a flag's value. */
    char **rest = calloc((size_t)argc + 1, sizeof(*rest));
    int nrest = 0;
    if (rest == NULL)
        abort();
    for (int a = 0; a < argc; a++) {
        if (strncmp(argv[a], "--", 2) == 0) {
            rest[nrest++] = argv[a];
            if (strchr(argv[a], '=') == NULL && a + 1 < argc && strcmp(argv[a], "--help") != 0)
                rest[nrest++] = argv[++a];
        } else if (out_path == NULL) {
            out_path = argv[a];
        } else {
            fprintf(stderr, "kith backup: one output file, please\n");
            goto out;
        }
    }
    if (out_path == NULL) {
        fprintf(stderr, "usage: kith backup [--db PATH] OUT\n");
        goto out;
    }
    if (!kith_cli_load_config(KITH_CONFIG_CMD_KEYS, nrest, rest, &cfg, &conf))
        goto out;
    rc = 1;
    if (kith_store_backup(cfg.db_path, out_path, &err) != KITH_OK) {
        fprintf(stderr, "kith backup: %s\n", err.message);
        goto out;
    }
    fprintf(stderr, "kith backup: %s written and checked\n", out_path);
    rc = 0;
out:
    free(rest);
    kith_config_destroy(conf);
    return rc;
}

static void write_man(FILE *out);

static int cmd_config(int argc, char **argv)
{
    size_t n;
    const struct kith_config_setting *table = kith_config_app_table(&n);
    if (argc >= 1 && strcmp(argv[0], "docs") == 0 && argc == 1) {
        kith_config_write_docs(table, n, stdout);
        return 0;
    }
    if (argc == 1 && strcmp(argv[0], "man") == 0) {
        write_man(stdout);
        return 0;
    }
    if (argc >= 1 && strcmp(argv[0], "check") == 0) {
        struct kith_app_config cfg;
        struct kith_config *conf = NULL;
        if (!kith_cli_load_config(0, argc - 1, argv + 1, &cfg, &conf))
            return 2;
        printf("# kith %s: every setting is valid; effective values (secrets redacted)\n",
               KITH_VERSION);
        kith_config_write_effective(conf, stdout);
        kith_config_destroy(conf);
        return 0;
    }
    fprintf(
        stderr,
        "usage: kith config check [--config FILE] [flags] | kith config docs | kith config man\n");
    return 2;
}

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("kith %s\n", KITH_VERSION);
    return 0;
}

static int cmd_help(int argc, char **argv);

static const struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    unsigned settings; /* KITH_CONFIG_CMD_* of the flags it takes, for its --help */
    const char *usage;
    const char *summary;
} commands[] = {
    {"serve", cmd_serve, KITH_CONFIG_CMD_SERVE, "kith serve [flags]",
     "run the HTTP/JSON referral engine"},
    {"keys", cmd_keys, KITH_CONFIG_CMD_KEYS, "kith keys create [--publishable] [flags]",
     "make an API key, printed once (--publishable: a pk_ key instead of sk_)"},
    {"backup", cmd_backup, KITH_CONFIG_CMD_KEYS, "kith backup [--db PATH] OUT",
     "write a consistent copy of a live SQLite database"},
    {"import", kith_cli_import, KITH_CONFIG_CMD_KEYS,
     "kith import participants FILE.csv [--program P] [--dry-run] [flags]",
     "move people in from another tool with their codes (CSV, all or nothing)"},
    {"config", cmd_config, 0, "kith config check [flags] | kith config docs | kith config man",
     "check: validate and print the settings; docs, man: print docs/config.md, docs/kith.1"},
    {"version", cmd_version, 0, "kith version", "print the version (also kith --version)"},
    {"help", cmd_help, 0, "kith help", "this help"},
};

static void write_man(FILE *out)
{
    size_t n;
    const struct kith_config_setting *table = kith_config_app_table(&n);
    struct kith_config_command list[KITH_ARRAY_LEN(commands)];
    for (size_t i = 0; i < KITH_ARRAY_LEN(commands); i++)
        list[i] = (struct kith_config_command){commands[i].usage, commands[i].summary};
    kith_config_write_man(table, n, list, KITH_ARRAY_LEN(commands), KITH_VERSION, out);
}

static int cmd_help(int argc, char **argv)
{
    size_t n;
    const struct kith_config_setting *table = kith_config_app_table(&n);
    (void)argc;
    (void)argv;
    printf("kith %s: a self-hosted referral engine\n\nusage: kith <command> [options]\n\n",
           KITH_VERSION);
    for (size_t i = 0; i < KITH_ARRAY_LEN(commands); i++)
        printf("  %-8s %s\n", commands[i].name, commands[i].summary);
    printf("\nSettings: flag, environment variable [default]. The config file key of each is its "
           "flag\nwithout -- and with _ for -, as in `public_url = https://...` (docs/config.md).\n"
           "Precedence: default < config file < environment < flag.\n\n");
    kith_config_write_help(table, n, 0, stdout);
    return 0;
}

static int command_help(const struct command *c)
{
    size_t n;
    const struct kith_config_setting *table = kith_config_app_table(&n);
    printf("usage: %s\n\n%s\n", c->usage, c->summary);
    if (c->settings != 0) {
        printf("\nSettings: flag, environment variable [default]; config file keys as in kith "
               "--help.\n\n");
        kith_config_write_help(table, n, c->settings, stdout);
    } else if (c->fn == cmd_config) {
        printf("\nconfig check takes every flag of kith serve (see kith --help).\n");
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        cmd_help(0, NULL);
        return 2;
    }
    if (is_help(argv[1]))
        return cmd_help(0, NULL);
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(0, NULL);
    for (size_t i = 0; i < KITH_ARRAY_LEN(commands); i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            for (int a = 2; a < argc; a++) {
                if (is_help(argv[a]))
                    return command_help(&commands[i]);
            }
            return commands[i].fn(argc - 2, argv + 2);
        }
    }
    fprintf(stderr, "kith: unknown command '%s' (see kith --help)\n", argv[1]);
    return 2;
}
