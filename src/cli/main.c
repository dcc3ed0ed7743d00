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
#include <termios.h>
#include <unistd.h>

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

/* ---- kith admin create|list|remove (section 21) ---- */

struct admin_job {
    const char *verb, *email, *role;
    char hash[KITH_CRYPTO_PWHASH_MAX];
    json_t *list;
};

static enum kith_status admin_job(struct kith_tx *tx, void *arg)
{
    struct admin_job *j = arg;
    if (strcmp(j->verb, "create") == 0)
        return kith_engine_admin_create(tx, j->email, j->role, j->hash, kith_clock_now_ms());
    if (strcmp(j->verb, "remove") == 0)
        return kith_engine_admin_remove(tx, j->email);
    json_decref(j->list);
    j->list = NULL;
    return kith_engine_admin_list(tx, &j->list);
}

/* The password: KITH_ADMIN_PASSWORD, else read from the terminal without echo. */
static bool admin_password(char *out, size_t outsize)
{
    const char *env = getenv("KITH_ADMIN_PASSWORD");
    if (env) {
        kith_strlcpy(out, env, outsize);
        return strlen(env) < outsize;
    }
    struct termios old, quiet;
    bool tty = tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        fprintf(stderr, "Password (at least 12 characters): ");
    }
    bool ok = fgets(out, (int)outsize, stdin) != NULL;
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fprintf(stderr, "\n");
    }
    if (ok)
        out[strcspn(out, "\r\n")] = '\0';
    return ok;
}

static int cmd_admin(int argc, char **argv)
{
    struct kith_err err = {{0}, {0}};
    struct kith_store *store = NULL;
    struct kith_config *conf = NULL;
    struct kith_app_config cfg;
    struct admin_job j = {.role = "owner"};
    char password[1100];
    int rc = 2;
    char **rest = calloc((size_t)argc + 1, sizeof(*rest));
    int nrest = 0;
    if (rest == NULL)
        abort();
    if (argc < 1 || (strcmp(argv[0], "create") != 0 && strcmp(argv[0], "list") != 0 &&
                     strcmp(argv[0], "remove") != 0))
        goto usage;
    j.verb = argv[0];
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--email") == 0 && a + 1 < argc)
            j.email = argv[++a];
        else if (strcmp(argv[a], "--role") == 0 && a + 1 < argc)
            j.role = argv[++a];
        else
            rest[nrest++] = argv[a];
    }
    if (strcmp(j.verb, "list") != 0 && (j.email == NULL || strchr(j.email, '@') == NULL))
        goto usage;
    if (!kith_engine_admin_role_valid(j.role)) {
        fprintf(stderr, "kith admin: --role is owner or reviewer\n");
        goto out;
    }
    if (!kith_cli_load_config(KITH_CONFIG_CMD_KEYS, nrest, rest, &cfg, &conf))
        goto out;
    rc = 1;
    if (kith_crypto_init(&err) != KITH_OK) {
        fprintf(stderr, "kith: %s\n", err.message);
        goto out;
    }
    if (strcmp(j.verb, "create") == 0) {
        bool ok = admin_password(password, sizeof(password));
        if (!ok || strlen(password) < 12) {
            fprintf(stderr, "kith admin: the password needs at least 12 characters\n");
            kith_crypto_wipe(password, sizeof(password));
            rc = 2;
            goto out;
        }
        ok = kith_crypto_pwhash(password, j.hash);
        kith_crypto_wipe(password, sizeof(password));
        if (!ok) {
            fprintf(stderr, "kith admin: not enough memory to hash the password\n");
            goto out;
        }
    }
    if (kith_store_open(cfg.db_path, &store, &err) != KITH_OK) {
        fprintf(stderr, "kith: %s\n", err.message);
        goto out;
    }
    enum kith_status st = kith_store_run(store, admin_job, &j);
    kith_store_close(store);
    if (st == KITH_E_CONSTRAINT) {
        fprintf(stderr, "kith admin: %s already has an account\n", j.email);
        goto out;
    }
    if (st == KITH_E_NOT_FOUND) {
        fprintf(stderr, "kith admin: no account for %s\n", j.email);
        goto out;
    }
    if (st != KITH_OK) {
        fprintf(stderr, "kith admin: failed (%s)\n", kith_status_code(st));
        goto out;
    }
    if (j.list) {
        size_t i;
        json_t *r;
        json_array_foreach(j.list, i, r)
        {
            char when[32];
            kith_time_format((int64_t)json_integer_value(json_object_get(r, "created_at")), when);
            printf("%s\t%s\t%s\n", json_string_value(json_object_get(r, "email")),
                   json_string_value(json_object_get(r, "role")), when);
        }
    } else {
        fprintf(stderr, "kith admin: %s %s\n", j.email,
                strcmp(j.verb, "create") == 0 ? "can now sign in at /admin" : "removed");
    }
    rc = 0;
    goto out;
usage:
    fprintf(stderr, "usage: kith admin create --email E [--role owner|reviewer] | list | remove "
                    "--email E [--db PATH]\n");
out:
    json_decref(j.list);
    kith_crypto_wipe(j.hash, sizeof(j.hash));
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
    {"admin", cmd_admin, KITH_CONFIG_CMD_KEYS,
     "kith admin create --email E [--role owner|reviewer] | list | remove --email E [flags]",
     "dashboard accounts (password from the terminal or KITH_ADMIN_PASSWORD)"},
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
