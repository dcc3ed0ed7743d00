/*
 * app.h: the running server: the HTTP routes of the contract wired to the engine through the
 * store's job queue, the redirect path with its code cache and click batches, the sweeper, and
 * signal handling. `kith serve` is a thin wrapper around kith_app_run().
 */
#ifndef KITH_APP_H
#define KITH_APP_H

#include <stdbool.h>

#include "kith/core.h"

struct kith_app_config {
    const char *listen_host;
    int listen_port;
    const char *db_path;
    const char *public_url; /* NULL: http://<listen> */
    const char *secret_key; /* KITH_SECRET_KEY or NULL */
    bool test_clock;
    const char *webhook_allow_cidrs; /* KITH_WEBHOOK_ALLOW_CIDRS */
    const char *smtp_url;            /* KITH_SMTP_URL: e-mail notifications when set */
    const char *smtp_from;           /* KITH_SMTP_FROM */
    bool fraud_off;                  /* KITH_FRAUD_SCORING=off (benchmarks only) */
    bool db_sync_pipelined;          /* KITH_DB_SYNC=pipelined */
    const char *trusted_proxies;     /* KITH_TRUSTED_PROXIES: CIDRs of reverse proxies */
};

/* Runs the server until SIGTERM or SIGINT; returns 0 after a clean stop. */
int kith_app_run(const struct kith_app_config *cfg);

#endif
