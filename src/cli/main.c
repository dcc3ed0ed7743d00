/*
 * main.c: the `kith` command. A command table maps names to functions; one config table drives
 * the flags, their environment twins, defaults and --help. Precedence: default < env < flag.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kith/app.h"
#include "kith/clock.h"
#include "kith/crypto.h"
#include "kith/engine.h"
#include "kith/log.h"
#include "kith/store.h"

#define KITH_VERSION "0.1.0"

struct option {
    const char *flag; /* "--listen" */
    const char *env;  /* "KITH_LISTEN" or NULL */
    const char *def;  /* default or NULL */
    bool is_bool;
    const char *help;
    const char *value; /* resolved */
};

static struct option serve_options[] = {
    {"--listen", "KITH_LISTEN", "127.0.0.1:8080", false, "HOST:PORT to listen on (port 0: any)",
     NULL},
    {"--db", "KITH_DB", "./kith.db", false, "SQLite file, or postgres://user@host:port/db", NULL},
    {"--public-url", "KITH_PUBLIC_URL", NULL, false,
     "URL people reach kith at (default http://<listen>)", NULL},
    {"--test-clock", NULL, NULL, true, "enable the test clock API (never in production)", NULL},
};

static struct option keys_options[] = {
    {"--db", "KITH_DB", "./kith.db", false, "SQLite file, or postgres://user@host:port/db", NULL},
    {"--publishable", NULL, NULL, true, "make a publishable key (pk_) instead of a secret one",
     NULL},
};

static void print_options(const struct option *opts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char left[64];
        snprintf(left, sizeof(left), "%s%s", opts[i].flag, opts[i].is_bool ? "" : " VALUE");
        fprintf(stdout, "  %-22s %s", left, opts[i].help);
        if (opts[i].def)
            fprintf(stdout, " [%s]", opts[i].def);
        if (opts[i].env)
            fprintf(stdout, " (env %s)", opts[i].env);
        fputc('\n', stdout);
    }
}

/* Resolves opts from defaults, the environment and argv; returns false on a bad argument. */
static bool parse_options(struct option *opts, size_t n, int argc, char **argv)
{
    for (size_t i = 0; i < n; i++) {
        opts[i].value = opts[i].def;
        const char *e = opts[i].env ? getenv(opts[i].env) : NULL;
        if (e && *e)
            opts[i].value = e;
    }
    for (int a = 0; a < argc; a++) {
        bool found = false;
        for (size_t i = 0; i < n; i++) {
            size_t fl = strlen(opts[i].flag);
            if (strncmp(argv[a], opts[i].flag, fl) != 0)
                continue;
            if (opts[i].is_bool && argv[a][fl] == '\0') {
                opts[i].value = "1";
            } else if (!opts[i].is_bool && argv[a][fl] == '=') {
                opts[i].value = argv[a] + fl + 1;
            } else if (!opts[i].is_bool && argv[a][fl] == '\0' && a + 1 < argc) {
                opts[i].value = argv[++a];
            } else {
                continue;
            }
            found = true;
            break;
        }
        if (!found) {
            fprintf(stderr, "kith: unknown or incomplete argument '%s' (see kith --help)\n",
                    argv[a]);
            return false;
        }
    }
    return true;
}

static const char *opt(const struct option *opts, size_t n, const char *flag)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(opts[i].flag, flag) == 0)
            return opts[i].value;
    }
    return NULL;
}

static bool split_listen(const char *listen, char *host, size_t hostsize, int *port)
{
    const char *colon = strrchr(listen, ':');
    if (colon == NULL || colon == listen)
        return false;
    const char *h = listen;
    size_t hl = (size_t)(colon - listen);
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl >= hostsize)
        return false;
    memcpy(host, h, hl);
    host[hl] = '\0';
    char *end = NULL;
    long p = strtol(colon + 1, &end, 10);
    if (*(colon + 1) == '\0' || *end != '\0' || p < 0 || p > 65535)
        return false;
    *port = (int)p;
    return true;
}

static int cmd_serve(int argc, char **argv)
{
    size_t n = KITH_ARRAY_LEN(serve_options);
    if (!parse_options(serve_options, n, argc, argv))
        return 2;
    char host[256];
    struct kith_app_config cfg = {0};
    if (!split_listen(opt(serve_options, n, "--listen"), host, sizeof(host), &cfg.listen_port)) {
        fprintf(stderr, "kith: --listen must be HOST:PORT\n");
        return 2;
    }
    const char *db = opt(serve_options, n, "--db");
    /* stderr (diagnostics and the access log) is buffered and flushed by the server every
     * 200 ms, so a busy server makes no syscall per request for its log. */
    static char logbuf[1 << 16];
    setvbuf(stderr, logbuf, _IOFBF, sizeof(logbuf));
    cfg.listen_host = host;
    cfg.db_path = db;
    cfg.public_url = opt(serve_options, n, "--public-url");
    cfg.test_clock = opt(serve_options, n, "--test-clock") != NULL;
    cfg.secret_key = getenv("KITH_SECRET_KEY");
    cfg.webhook_allow_cidrs = getenv("KITH_WEBHOOK_ALLOW_CIDRS");
    cfg.smtp_url = getenv("KITH_SMTP_URL");
    cfg.smtp_from = getenv("KITH_SMTP_FROM");
    cfg.trusted_proxies = getenv("KITH_TRUSTED_PROXIES");
    const char *level = getenv("KITH_LOG_LEVEL");
    if (level && strcmp(level, "debug") == 0)
        kith_log_min_level = KITH_LOG_DEBUG;
    else if (level && strcmp(level, "warn") == 0)
        kith_log_min_level = KITH_LOG_WARN;
    const char *sync = getenv("KITH_DB_SYNC");
    if (sync && strcmp(sync, "pipelined") != 0 && strcmp(sync, "full") != 0) {
        fprintf(stderr, "kith: KITH_DB_SYNC must be 'full' or 'pipelined'\n");
        return 2;
    }
    cfg.db_sync_pipelined = sync && strcmp(sync, "pipelined") == 0;
    const char *fraud = getenv("KITH_FRAUD_SCORING");
    cfg.fraud_off = fraud && strcmp(fraud, "off") == 0;
    return kith_app_run(&cfg);
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
    size_t n = KITH_ARRAY_LEN(keys_options);
    struct kith_err err = {{0}, {0}};
    struct kith_store *store = NULL;
    if (argc < 1 || strcmp(argv[0], "create") != 0) {
        fprintf(stderr, "usage: kith keys create [--publishable] [--db PATH]\n");
        return 2;
    }
    if (!parse_options(keys_options, n, argc - 1, argv + 1))
        return 2;
    if (kith_crypto_init(&err) != KITH_OK ||
        kith_store_open(opt(keys_options, n, "--db"), &store, &err) != KITH_OK) {
        fprintf(stderr, "kith: %s\n", err.message);
        return 1;
    }
    struct key_job k = {.publishable = opt(keys_options, n, "--publishable") != NULL};
    enum kith_status st = kith_store_run(store, key_job, &k);
    kith_store_close(store);
    if (st != KITH_OK) {
        fprintf(stderr, "kith: could not create the key (%s)\n", kith_status_code(st));
        return 1;
    }
    printf("%s\n", k.key);
    kith_crypto_wipe(k.key, sizeof(k.key));
    return 0;
}

static int cmd_help(int argc, char **argv);

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("kith %s\n", KITH_VERSION);
    return 0;
}

static const struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"serve", cmd_serve, "run the HTTP/JSON referral engine"},
    {"keys", cmd_keys, "keys create [--publishable]: make an API key (printed once)"},
    {"version", cmd_version, "print the version"},
    {"help", cmd_help, "this help"},
};

static int cmd_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("kith %s: a self-hosted referral engine\n\nusage: kith <command> [options]\n\n",
           KITH_VERSION);
    for (size_t i = 0; i < KITH_ARRAY_LEN(commands); i++)
        printf("  %-8s %s\n", commands[i].name, commands[i].summary);
    printf("\nkith serve options:\n");
    print_options(serve_options, KITH_ARRAY_LEN(serve_options));
    printf("  KITH_SECRET_KEY        accept this exact string as a secret API key\n");
    printf("  KITH_WEBHOOK_ALLOW_CIDRS  private ranges webhooks may reach (e.g. 127.0.0.0/8)\n");
    printf("  KITH_SMTP_URL          send notifications by e-mail (smtp://host:port)\n");
    printf("  KITH_SMTP_FROM         sender address for e-mail [kith@localhost]\n");
    printf("  KITH_FRAUD_SCORING     'off' skips fraud scoring (benchmarks of its cost only)\n");
    printf(
        "  KITH_DB_SYNC           'full' (default) or 'pipelined': fsync overlapped with work\n");
    printf("\nkith keys create options:\n");
    print_options(keys_options, KITH_ARRAY_LEN(keys_options));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return cmd_help(0, NULL) == 0 && argc >= 2 ? 0 : (argc < 2 ? 2 : 0);
    for (size_t i = 0; i < KITH_ARRAY_LEN(commands); i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            if (argc >= 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0))
                return cmd_help(0, NULL);
            return commands[i].fn(argc - 2, argv + 2);
        }
    }
    fprintf(stderr, "kith: unknown command '%s' (see kith --help)\n", argv[1]);
    return 2;
}
