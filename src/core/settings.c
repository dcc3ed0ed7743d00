/*
 * settings.c: kith's settings, as rows of the config table (include/kith/config.h): name,
 * flag, environment variable, type, default, bounds, which commands take it, where it lands in
 * struct kith_app_config, and its help. The flags, the environment, the config file, --help,
 * `kith config check` and docs/config.md all come from these rows (config.c). It is not for
 * what a setting does: the modules reading struct kith_app_config act on it.
 */
#include <stddef.h>

#include "kith/app.h"
#include "kith/config.h"

/* ---- kith's settings ---------------------------------------------------------------------- */

static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const log_formats[] = {"text", "json", NULL};
static const char *const db_syncs[] = {"full", "pipelined", NULL};
static const char *const http_schemes[] = {"http", "https", NULL};
static const char *const smtp_schemes[] = {"smtp", "smtps", NULL};

#define APP(field) offsetof(struct kith_app_config, field)
#define SERVE KITH_CONFIG_CMD_SERVE
#define BOTH (KITH_CONFIG_CMD_SERVE | KITH_CONFIG_CMD_KEYS)

/* The order here is the order of --help, `kith config check` and docs/config.md. */
static const struct kith_config_setting app_settings[] = {
    {.name = "config",
     .flag = "--config",
     .env = "KITH_CONFIG",
     .type = KITH_CONFIG_STRING,
     .metavar = "FILE",
     .max = 4096,
     .names_file = true,
     .commands = BOTH,
     .offset = APP(config_path),
     .help = "read settings from FILE (key = value lines; see docs/config.md)",
     .doc = "Only as a flag or in the environment: a config file cannot name another."},
    {.name = "listen",
     .flag = "--listen",
     .env = "KITH_LISTEN",
     .type = KITH_CONFIG_HOSTPORT,
     .def = "127.0.0.1:8080",
     .commands = SERVE,
     .offset = APP(listen_host),
     .port_offset = APP(listen_port),
     .help = "address to listen on; port 0 picks a free port",
     .doc = "IPv6 addresses go in brackets: `[::1]:8080`."},
    {.name = "db",
     .flag = "--db",
     .env = "KITH_DB",
     .type = KITH_CONFIG_STRING,
     .def = "./kith.db",
     .metavar = "PATH|URL",
     .max = 4096,
     .commands = BOTH,
     .offset = APP(db_path),
     .help = "SQLite database file, or postgres://user@host:port/db",
     .doc = "Created and migrated on start. A password in a PostgreSQL URL is shown as `***` "
            "by `kith config check`; see docs/postgresql.md."},
    {.name = "public_url",
     .flag = "--public-url",
     .env = "KITH_PUBLIC_URL",
     .type = KITH_CONFIG_URL,
     .def_doc = "http://<listen>",
     .max = 2048,
     .words = http_schemes,
     .commands = SERVE,
     .offset = APP(public_url),
     .help = "URL people reach kith at: the base of share links",
     .doc = "With `https://`, the referral cookie gets `Secure`."},
    {.name = "test_clock",
     .flag = "--test-clock",
     .env = "KITH_TEST_CLOCK",
     .type = KITH_CONFIG_BOOL,
     .def = "off",
     .commands = SERVE,
     .offset = APP(test_clock),
     .help = "enable the test clock API /v1/test/clock (tests only, never in production)"},
    {.name = "secret_key",
     .env = "KITH_SECRET_KEY",
     .type = KITH_CONFIG_TOKEN,
     .metavar = "KEY",
     .max = 200,
     .secret = true,
     .commands = SERVE,
     .offset = APP(secret_key),
     .help = "accept this exact string as a secret API key (bootstrap for scripts and tests)",
     .doc = "No flag, because every local user can read a command line. Without it, the first "
            "start on an empty database creates a secret key and prints it once on stderr; "
            "`kith keys create [--publishable]` makes more (only their BLAKE2b digests are "
            "stored)."},
    {.name = "webhook_allow_cidrs",
     .flag = "--webhook-allow-cidrs",
     .env = "KITH_WEBHOOK_ALLOW_CIDRS",
     .type = KITH_CONFIG_CIDRS,
     .def_doc = "none",
     .max = 16384,
     .commands = SERVE,
     .offset = APP(webhook_allow_cidrs),
     .help = "private ranges outgoing webhooks may reach, e.g. 127.0.0.0/8",
     .doc = "Comma- or space-separated `address/prefix` ranges, at most 256. Loopback, private, "
            "link-local and other non-public addresses are refused unless listed here."},
    {.name = "hash_key_file",
     .flag = "--hash-key-file",
     .env = "KITH_HASH_KEY_FILE",
     .type = KITH_CONFIG_STRING,
     .def_doc = "none (the key is kept in the database)",
     .max = 4096,
     .commands = SERVE,
     .offset = APP(hash_key_file),
     .help = "keep the IP and user-agent hashing key in this file, not in the database",
     .doc = "Created with mode 0600 on the first start that names it (an existing database's key "
            "moves into it); refused when others may read it. A copy of the database alone then "
            "cannot be used to brute-force the address hashes it holds. Back the file up apart "
            "from the database: without it, stored hashes can no longer be matched. Every "
            "instance on one database needs the same file."},
    {.name = "trusted_proxies",
     .flag = "--trusted-proxies",
     .env = "KITH_TRUSTED_PROXIES",
     .type = KITH_CONFIG_CIDRS,
     .def_doc = "none",
     .max = 16384,
     .commands = SERVE,
     .offset = APP(trusted_proxies),
     .help = "reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed",
     .doc = "Comma- or space-separated `address/prefix` ranges, at most 256 (write IPv4 ranges "
            "as IPv4). From a peer in these ranges the client is the right-most "
            "`X-Forwarded-For` address that is not itself a listed proxy, and "
            "`X-Forwarded-Proto: https` marks the request secure (its cookies get `Secure`). "
            "Without it those headers mean nothing. See docs/deploy.md."},
    {.name = "smtp_url",
     .flag = "--smtp-url",
     .env = "KITH_SMTP_URL",
     .type = KITH_CONFIG_URL,
     .def_doc = "none",
     .max = 2048,
     .words = smtp_schemes,
     .commands = SERVE,
     .offset = APP(smtp_url),
     .help = "also e-mail notifications through this server (smtp://host:port or smtps://)",
     .doc = "A password in the URL is shown as `***` by `kith config check`."},
    {.name = "smtp_from",
     .flag = "--smtp-from",
     .env = "KITH_SMTP_FROM",
     .type = KITH_CONFIG_STRING,
     .def = "kith@localhost",
     .metavar = "ADDRESS",
     .max = 320,
     .commands = SERVE,
     .offset = APP(smtp_from),
     .help = "sender of those e-mails (an address, or Name <address>)"},
    {.name = "stripe_api_base",
     .flag = "--stripe-api-base",
     .env = "KITH_STRIPE_API_BASE",
     .type = KITH_CONFIG_URL,
     .def = "https://api.stripe.com",
     .max = 2048,
     .words = http_schemes,
     .commands = SERVE,
     .offset = APP(stripe_api_base),
     .help = "where reward fulfilment calls Stripe's API (tests: a local stand-in)",
     .doc = "Programs whose `fulfilment` names `stripe_balance`, `stripe_coupon` or `stripe_trial` "
            "call `<this>/v1/...` with their own `stripe_api_key`. The webhook network policy "
            "does not apply: this is your setting, not an address anyone can register."},
    {.name = "log_level",
     .flag = "--log-level",
     .env = "KITH_LOG_LEVEL",
     .type = KITH_CONFIG_ENUM,
     .def = "info",
     .words = log_levels,
     .commands = BOTH,
     .offset = APP(log_level),
     .help = "least severe diagnostics written; warn and error also silence the access log"},
    {.name = "log_format",
     .flag = "--log-format",
     .env = "KITH_LOG_FORMAT",
     .type = KITH_CONFIG_ENUM,
     .def = "text",
     .words = log_formats,
     .commands = BOTH,
     .offset = APP(log_format),
     .help = "text: key=value lines; json: one JSON object per line",
     .doc = "Both on stderr, one line per event."},
    {.name = "db_sync",
     .flag = "--db-sync",
     .env = "KITH_DB_SYNC",
     .type = KITH_CONFIG_ENUM,
     .def = "full",
     .words = db_syncs,
     .commands = SERVE,
     .offset = APP(db_sync),
     .help = "full: every commit fsyncs its log; pipelined: that fsync overlaps the next batch",
     .doc = "`full` is SQLite's `synchronous=FULL`. `pipelined` commits with "
            "`synchronous=NORMAL` while a second thread fdatasyncs the log before any answer of "
            "the batch leaves, as the next batch already runs. Nothing is acknowledged before it "
            "is on disk either way (docs/PERFORMANCE.md)."},
    {.name = "fraud_scoring",
     .flag = "--fraud-scoring",
     .env = "KITH_FRAUD_SCORING",
     .type = KITH_CONFIG_BOOL,
     .def = "on",
     .commands = SERVE,
     .offset = APP(fraud_scoring),
     .help = "off skips fraud scoring: only for measuring its cost (make bench)"},
};

const struct kith_config_setting *kith_config_app_table(size_t *count)
{
    *count = KITH_ARRAY_LEN(app_settings);
    return app_settings;
}
