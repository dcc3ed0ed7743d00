/*
 * app.h: the running server: the HTTP routes of the contract wired to the engine through the
 * store's job queue, the redirect path with its code cache and click batches, the sweeper, and
 * signal handling. `kith serve` is a thin wrapper around kith_app_run().
 *
 * struct kith_app_config is filled by the config table (kith/config.h, src/core/config.c), which
 * has validated every field before kith_app_run sees it; the comments name each field's setting.
 *
 * Ownership and threads: kith_app_run() owns everything it starts and runs the loop on the
 * calling thread until the process stops; call it once per process. cfg is borrowed for the call.
 */
#ifndef KITH_APP_H
#define KITH_APP_H

#include <stdbool.h>

#include "kith/core.h"

enum kith_app_db_sync {
    KITH_APP_DB_SYNC_FULL,      /* every commit fsyncs its log */
    KITH_APP_DB_SYNC_PIPELINED, /* the log's fsync overlapped with the next batch */
};

struct kith_app_config {
    const char *config_path;         /* config: the file read, or NULL */
    const char *listen_host;         /* listen, without brackets */
    int listen_port;                 /* listen; 0 picks a free port */
    const char *db_path;             /* db: SQLite file or postgres:// URL */
    const char *public_url;          /* public_url, or NULL: http://<listen> */
    const char *secret_key;          /* secret_key, or NULL */
    bool test_clock;                 /* test_clock */
    const char *webhook_allow_cidrs; /* webhook_allow_cidrs, or NULL */
    const char *smtp_url;            /* smtp_url: e-mail notifications when set */
    const char *smtp_from;           /* smtp_from */
    int log_level;                   /* log_level: enum kith_log_level */
    int log_format;                  /* log_format: enum kith_log_format */
    int db_sync;                     /* db_sync: enum kith_app_db_sync */
    bool fraud_scoring;              /* fraud_scoring; off only for benchmarks */
    const char *hash_key_file;       /* hash_key_file: the IP/user-agent hashing key, or NULL */
    const char *trusted_proxies;     /* trusted_proxies: CIDRs of reverse proxies, or NULL */
    const char *stripe_api_base;     /* stripe_api_base: where reward fulfilment calls Stripe */
};

/* Runs the server until SIGTERM or SIGINT; returns 0 after a clean stop. */
int kith_app_run(const struct kith_app_config *cfg);

#endif
