/*
 * sqlite_schema.h: the SQLite migrations, applied in order on start and recorded in
 * PRAGMA user_version. Append a new entry to change the schema; never edit a shipped one.
 * Times are integer milliseconds since the epoch (UTC). Uniqueness the contract promises lives
 * here, in constraints: one participant per (program, external_id), one owner per normalised
 * code, one referral per referred person and program, one live reward per (referral, side), one
 * event per (program, provider id), one idempotency record per (scope, key).
 */
#ifndef KITH_SQLITE_SCHEMA_H
#define KITH_SQLITE_SCHEMA_H

static const char *const kith_sqlite_migrations[] = {
    /* 1: the core engine */
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE api_keys (id TEXT PRIMARY KEY, kind TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE programs (id TEXT PRIMARY KEY, config TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE TABLE participants (id TEXT PRIMARY KEY, program TEXT NOT NULL, external_id TEXT NOT NULL,"
    "  email TEXT, email_norm TEXT, first_name TEXT, code TEXT NOT NULL, referred_by TEXT,"
    "  status TEXT NOT NULL, leaderboard_opt_in INTEGER NOT NULL DEFAULT 0, metadata TEXT,"
    "  ip_hash TEXT, device_id TEXT, payment_fingerprint TEXT, erased INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    "  UNIQUE (program, external_id));"
    "CREATE INDEX participants_email ON participants (program, email_norm);"
    "CREATE TABLE codes (norm TEXT PRIMARY KEY, code TEXT NOT NULL, participant TEXT NOT NULL,"
    "  kind TEXT NOT NULL, created_at INTEGER NOT NULL);"
    "CREATE INDEX codes_participant ON codes (participant);"
    "CREATE TABLE code_prefixes (prefix TEXT PRIMARY KEY, taken INTEGER NOT NULL);"
    "CREATE TABLE clicks (id TEXT PRIMARY KEY, program TEXT NOT NULL, participant TEXT NOT NULL,"
    "  code TEXT NOT NULL, created_at INTEGER NOT NULL, channel TEXT, referrer_host TEXT,"
    "  ip_hash TEXT, ua_hash TEXT);"
    "CREATE INDEX clicks_participant ON clicks (participant, created_at);"
    "CREATE INDEX clicks_program ON clicks (program, created_at);"
    "CREATE TABLE referrals (id TEXT PRIMARY KEY, program TEXT NOT NULL, referrer TEXT NOT NULL,"
    "  referred TEXT NOT NULL, code TEXT, source TEXT NOT NULL, channel TEXT, click TEXT,"
    "  status TEXT NOT NULL, fraud_score INTEGER NOT NULL DEFAULT 0, fraud_flags TEXT NOT NULL DEFAULT '[]',"
    "  email_domain TEXT, email_stem TEXT,"
    "  created_at INTEGER NOT NULL, qualified_at INTEGER, rewarded_at INTEGER, expires_at INTEGER,"
    "  hold_until INTEGER, updated_at INTEGER NOT NULL,"
    "  UNIQUE (program, referred));"
    "CREATE INDEX referrals_referrer ON referrals (referrer, created_at);"
    "CREATE INDEX referrals_stem ON referrals (referrer, email_domain, email_stem);"
    "CREATE INDEX referrals_due ON referrals (status, expires_at);"
    "CREATE INDEX referrals_hold ON referrals (status, hold_until);"
    "CREATE INDEX referrals_program ON referrals (program, created_at);"
    "CREATE INDEX referrals_qualified ON referrals (program, qualified_at)"
    "  WHERE qualified_at IS NOT NULL;"
    "CREATE TABLE rewards (id TEXT PRIMARY KEY, program TEXT NOT NULL, participant TEXT NOT NULL,"
    "  referral TEXT NOT NULL, side TEXT NOT NULL, kind TEXT NOT NULL, amount INTEGER,"
    "  currency TEXT, description TEXT, status TEXT NOT NULL, expires_days INTEGER,"
    "  event TEXT, created_at INTEGER NOT NULL, issued_at INTEGER, redeemed_at INTEGER,"
    "  expires_at INTEGER, voided_at INTEGER, updated_at INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX rewards_live ON rewards (referral, side) WHERE status <> 'voided';"
    "CREATE INDEX rewards_participant ON rewards (participant, created_at);"
    "CREATE INDEX rewards_due ON rewards (status, expires_at);"
    "CREATE INDEX rewards_issued ON rewards (program, issued_at) WHERE issued_at IS NOT NULL;"
    "CREATE TABLE events (id TEXT PRIMARY KEY, program TEXT NOT NULL, participant TEXT NOT NULL,"
    "  type TEXT NOT NULL, amount INTEGER, currency TEXT, provider_id TEXT,"
    "  payment_fingerprint TEXT, occurred_at INTEGER NOT NULL, created_at INTEGER NOT NULL,"
    "  referral TEXT);"
    "CREATE UNIQUE INDEX events_provider ON events (program, provider_id)"
    "  WHERE provider_id IS NOT NULL;"
    "CREATE INDEX events_participant ON events (participant, occurred_at);"
    "CREATE INDEX events_payment ON events (participant, payment_fingerprint)"
    "  WHERE payment_fingerprint IS NOT NULL;"
    "CREATE TABLE decisions (id TEXT PRIMARY KEY, referral TEXT NOT NULL, decision TEXT NOT NULL,"
    "  reason TEXT, api_key TEXT NOT NULL, created_at INTEGER NOT NULL);"
    "CREATE INDEX decisions_referral ON decisions (referral);"
    "CREATE TABLE idempotency (scope TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL,"
    "  status INTEGER NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (scope, key));"
    "CREATE INDEX idempotency_created ON idempotency (created_at);",
};

#endif
