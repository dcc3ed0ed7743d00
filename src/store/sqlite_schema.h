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
    "CREATE TABLE participants (id TEXT PRIMARY KEY, program TEXT NOT NULL, external_id TEXT NOT "
    "NULL,"
    "  email TEXT, email_norm TEXT, first_name TEXT, code TEXT NOT NULL, referred_by TEXT,"
    "  status TEXT NOT NULL, leaderboard_opt_in INTEGER NOT NULL DEFAULT 0, metadata TEXT,"
    "  ip_hash TEXT, device_id TEXT, payment_fingerprint TEXT, erased INTEGER NOT NULL DEFAULT 0,"
    "  clicks INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    "  UNIQUE (program, external_id));"
    "CREATE INDEX participants_email ON participants (program, email_norm);"
    "CREATE INDEX participants_active ON participants (program, created_at)"
    "  WHERE status = 'active' AND erased = 0;"
    "CREATE TABLE program_counts (program TEXT PRIMARY KEY,"
    "  participants_active INTEGER NOT NULL DEFAULT 0, sharers INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE click_hours (program TEXT NOT NULL, hour INTEGER NOT NULL,"
    "  channel TEXT NOT NULL, clicks INTEGER NOT NULL, PRIMARY KEY (program, hour, channel))"
    "  WITHOUT ROWID;"
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
    "  status TEXT NOT NULL, fraud_score INTEGER NOT NULL DEFAULT 0, fraud_flags TEXT NOT NULL "
    "DEFAULT '[]',"
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
    "CREATE INDEX rewards_referral ON rewards (referral);"
    "CREATE INDEX rewards_event ON rewards (event) WHERE event IS NOT NULL;"
    "CREATE INDEX rewards_due ON rewards (status, expires_at);"
    "CREATE INDEX rewards_issued ON rewards (program, issued_at) WHERE issued_at IS NOT NULL;"
    "CREATE TABLE events (id TEXT PRIMARY KEY, program TEXT NOT NULL, participant TEXT NOT NULL,"
    "  type TEXT NOT NULL, amount INTEGER, currency TEXT, provider_id TEXT,"
    "  payment_fingerprint TEXT, occurred_at INTEGER NOT NULL, created_at INTEGER NOT NULL,"
    "  referral TEXT, external_ref TEXT);"
    "CREATE UNIQUE INDEX events_provider ON events (program, provider_id)"
    "  WHERE provider_id IS NOT NULL;"
    "CREATE INDEX events_participant ON events (participant, occurred_at);"
    "CREATE INDEX events_external_ref ON events (program, external_ref)"
    "  WHERE external_ref IS NOT NULL;"
    "CREATE INDEX events_payment ON events (participant, payment_fingerprint)"
    "  WHERE payment_fingerprint IS NOT NULL;"
    "CREATE TABLE decisions (id TEXT PRIMARY KEY, referral TEXT NOT NULL, decision TEXT NOT NULL,"
    "  reason TEXT, api_key TEXT NOT NULL, created_at INTEGER NOT NULL);"
    "CREATE INDEX decisions_referral ON decisions (referral);"
    "CREATE TABLE idempotency (scope TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL,"
    "  status INTEGER NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (scope, key));"
    "CREATE INDEX idempotency_created ON idempotency (created_at);"
    "CREATE TABLE webhook_endpoints (id TEXT PRIMARY KEY, url TEXT NOT NULL, events TEXT NOT NULL,"
    "  description TEXT, status TEXT NOT NULL, secret TEXT NOT NULL, failing_since INTEGER,"
    "  disabled_reason TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE TABLE webhook_messages (id TEXT PRIMARY KEY, type TEXT NOT NULL,"
    "  payload TEXT NOT NULL, created_at INTEGER NOT NULL);"
    "CREATE TABLE webhook_deliveries (id TEXT PRIMARY KEY, endpoint TEXT NOT NULL,"
    "  message TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_at INTEGER, last_status INTEGER, last_latency_ms INTEGER, last_error TEXT,"
    "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, UNIQUE (endpoint, message));"
    "CREATE INDEX deliveries_due ON webhook_deliveries (status, next_attempt_at);"
    "CREATE TABLE webhook_attempts (id TEXT PRIMARY KEY, delivery TEXT NOT NULL,"
    "  endpoint TEXT NOT NULL, message TEXT NOT NULL, attempt INTEGER NOT NULL,"
    "  attempted_at INTEGER NOT NULL, status_code INTEGER, latency_ms INTEGER, error TEXT,"
    "  next_attempt_at INTEGER);"
    "CREATE INDEX attempts_endpoint ON webhook_attempts (endpoint, attempted_at);"
    "CREATE TABLE notifications (id TEXT PRIMARY KEY, program TEXT NOT NULL,"
    "  participant TEXT NOT NULL, stage TEXT NOT NULL, referral TEXT, reward TEXT,"
    "  subject TEXT, body TEXT, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL, sent_at INTEGER, lease_until INTEGER);"
    "CREATE INDEX notifications_participant ON notifications (participant, created_at);"
    "CREATE INDEX notifications_outbox ON notifications (status, created_at);",
    /* 2: the provider objects a purchase was paid through (a Stripe payment intent, an invoice),
     * so that a later refund of one of them finds the purchase it undoes */
    "CREATE TABLE event_refs (program TEXT NOT NULL, ref TEXT NOT NULL, event TEXT NOT NULL,"
    "  PRIMARY KEY (program, ref, event));",
    /* 3: tracks, levels, roles and activities (CONTRACT sections 15, 16). Rewards that no
     * referral earned (section 8 v2: a level's grants) have no referral and name their source,
     * so rewards is rebuilt with `referral` nullable (SQLite cannot drop NOT NULL in place; rowids
     * are kept, so list cursors stay valid). A later migration that changes rewards must come
     * after this one. */
    "CREATE TABLE rewards_v2 (id TEXT PRIMARY KEY, program TEXT NOT NULL,"
    "  participant TEXT NOT NULL, referral TEXT, side TEXT NOT NULL, kind TEXT NOT NULL,"
    "  amount INTEGER, currency TEXT, description TEXT, status TEXT NOT NULL,"
    "  expires_days INTEGER, event TEXT, created_at INTEGER NOT NULL, issued_at INTEGER,"
    "  redeemed_at INTEGER, expires_at INTEGER, voided_at INTEGER, updated_at INTEGER NOT NULL,"
    "  source TEXT);"
    "INSERT INTO rewards_v2 (rowid, id, program, participant, referral, side, kind, amount,"
    "  currency, description, status, expires_days, event, created_at, issued_at, redeemed_at,"
    "  expires_at, voided_at, updated_at) SELECT rowid, id, program, participant, referral,"
    "  side, kind, amount, currency, description, status, expires_days, event, created_at,"
    "  issued_at, redeemed_at, expires_at, voided_at, updated_at FROM rewards;"
    "DROP TABLE rewards;"
    "ALTER TABLE rewards_v2 RENAME TO rewards;"
    "CREATE UNIQUE INDEX rewards_live ON rewards (referral, side) WHERE status <> 'voided';"
    "CREATE INDEX rewards_participant ON rewards (participant, created_at);"
    "CREATE INDEX rewards_referral ON rewards (referral);"
    "CREATE INDEX rewards_event ON rewards (event) WHERE event IS NOT NULL;"
    "CREATE INDEX rewards_due ON rewards (status, expires_at);"
    "CREATE INDEX rewards_issued ON rewards (program, issued_at) WHERE issued_at IS NOT NULL;"
    /* Activities the business reports; its own id is unique in the program. */
    "CREATE TABLE activities (id TEXT PRIMARY KEY, program TEXT NOT NULL,"
    "  participant TEXT NOT NULL, type TEXT NOT NULL, business_id TEXT NOT NULL, note TEXT,"
    "  url TEXT, status TEXT NOT NULL, reason TEXT, occurred_at INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL, voided_at INTEGER, updated_at INTEGER NOT NULL,"
    "  UNIQUE (program, business_id));"
    "CREATE INDEX activities_participant ON activities (participant, type);"
    "CREATE INDEX activities_program ON activities (program, type);"
    /* One row per participant and track: the running count (under the track's basis) and the
     * level held; id is '<participant>/<track>'. */
    "CREATE TABLE track_levels (id TEXT PRIMARY KEY, program TEXT NOT NULL,"
    "  participant TEXT NOT NULL, track TEXT NOT NULL, basis TEXT NOT NULL,"
    "  n INTEGER NOT NULL DEFAULT 0, level TEXT, pending TEXT, declined TEXT,"
    "  below_since INTEGER, grace_until INTEGER, updated_at INTEGER NOT NULL);"
    "CREATE INDEX track_levels_participant ON track_levels (participant);"
    "CREATE INDEX track_levels_grace ON track_levels (grace_until)"
    "  WHERE grace_until IS NOT NULL;"
    /* What each count is made of: one entry per thing counted, so nothing counts twice and a
     * void takes back exactly what was counted; windowed entries expire. */
    "CREATE TABLE track_entries (program TEXT NOT NULL, track TEXT NOT NULL,"
    "  basis TEXT NOT NULL, source TEXT NOT NULL, participant TEXT NOT NULL,"
    "  at INTEGER NOT NULL, expires_at INTEGER, live INTEGER NOT NULL DEFAULT 1,"
    "  PRIMARY KEY (program, track, basis, source));"
    "CREATE INDEX track_entries_due ON track_entries (expires_at)"
    "  WHERE live = 1 AND expires_at IS NOT NULL;"
    "CREATE INDEX track_entries_participant ON track_entries (participant);"
    /* A level's grants are given once per participant and level, ever: this constraint. */
    "CREATE TABLE levels_reached (id TEXT PRIMARY KEY, program TEXT NOT NULL,"
    "  participant TEXT NOT NULL, track TEXT NOT NULL, level TEXT NOT NULL,"
    "  n INTEGER NOT NULL, approved_by TEXT, notified INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL, UNIQUE (participant, track, level));"
    "CREATE INDEX levels_reached_unnotified ON levels_reached (created_at) WHERE notified = 0;"
    "CREATE TABLE participant_roles (participant TEXT NOT NULL, program TEXT NOT NULL,"
    "  role TEXT NOT NULL, source TEXT NOT NULL, track TEXT, level TEXT,"
    "  granted_at INTEGER NOT NULL, PRIMARY KEY (participant, role));",
    /* 4: shareable resources and leads (CONTRACT section 19). A resource's slug is unique in its
     * program and never changes; one lead per (program, resource, normalised e-mail); one
     * follow-up message per (lead, step), so a sweep that runs twice never queues one twice. */
    "CREATE TABLE resources (id TEXT PRIMARY KEY, program TEXT NOT NULL, slug TEXT NOT NULL,"
    "  title TEXT NOT NULL, kind TEXT NOT NULL, url TEXT NOT NULL, collection TEXT,"
    "  description TEXT, gated INTEGER NOT NULL DEFAULT 0, share_message TEXT,"
    "  follow_ups TEXT NOT NULL DEFAULT '[]', status TEXT NOT NULL, source TEXT NOT NULL,"
    "  external_id TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    "  UNIQUE (program, slug));"
    "CREATE UNIQUE INDEX resources_external ON resources (program, external_id)"
    "  WHERE external_id IS NOT NULL;"
    "CREATE TABLE leads (id TEXT PRIMARY KEY, program TEXT NOT NULL, resource TEXT NOT NULL,"
    "  email TEXT, email_norm TEXT, referrer TEXT NOT NULL, click TEXT NOT NULL,"
    "  status TEXT NOT NULL, consented_at INTEGER NOT NULL, participant TEXT,"
    "  next_step INTEGER NOT NULL DEFAULT 0, next_follow_up_at INTEGER,"
    "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    "  UNIQUE (program, resource, email_norm));"
    "CREATE INDEX leads_email ON leads (program, email_norm, created_at);"
    "CREATE INDEX leads_resource ON leads (program, resource, created_at);"
    "CREATE INDEX leads_referrer ON leads (referrer, created_at);"
    "CREATE INDEX leads_participant ON leads (participant) WHERE participant IS NOT NULL;"
    "CREATE INDEX leads_due ON leads (next_follow_up_at)"
    "  WHERE status = 'active' AND next_follow_up_at IS NOT NULL;"
    "CREATE TABLE lead_messages (id TEXT PRIMARY KEY, lead TEXT NOT NULL, program TEXT NOT NULL,"
    "  resource TEXT NOT NULL, step INTEGER NOT NULL, subject TEXT, body TEXT,"
    "  base_url TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    "  lease_until INTEGER, created_at INTEGER NOT NULL, sent_at INTEGER,"
    "  UNIQUE (lead, step));"
    "CREATE INDEX lead_messages_outbox ON lead_messages (status, created_at);"
    "CREATE TABLE lead_tokens (hash TEXT PRIMARY KEY, lead TEXT NOT NULL,"
    "  message TEXT NOT NULL, created_at INTEGER NOT NULL);"
    "CREATE INDEX lead_tokens_lead ON lead_tokens (lead);"
    "ALTER TABLE clicks ADD COLUMN resource TEXT;"
    "CREATE INDEX clicks_resource ON clicks (program, resource, created_at)"
    "  WHERE resource IS NOT NULL;"
    "ALTER TABLE referrals ADD COLUMN resource TEXT;"
    "CREATE INDEX referrals_resource ON referrals (program, resource, created_at)"
    "  WHERE resource IS NOT NULL;",
    /* 5: share-hub links (section 20): only a digest of each token, never the token */
    "CREATE TABLE hub_tokens (digest TEXT PRIMARY KEY, participant TEXT NOT NULL,"
    "  program TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);"
    "CREATE INDEX hub_tokens_participant ON hub_tokens (participant);"
    "CREATE INDEX hub_tokens_expiry ON hub_tokens (expires_at);",
    /* 6: moments, asks and preferences (section 17), rituals (18); rewards without a referral
     * come from migration 3. */
    /* Preferences live on the participant, so rendering one costs no query. */
    "ALTER TABLE participants ADD COLUMN pref_asks TEXT NOT NULL DEFAULT 'normal';"
    "ALTER TABLE participants ADD COLUMN pref_digest INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE participants ADD COLUMN pref_spotlight INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE preference_changes (id TEXT PRIMARY KEY, program TEXT NOT NULL,"
    "  participant TEXT NOT NULL, field TEXT NOT NULL, from_value TEXT, to_value TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE INDEX preference_changes_participant ON preference_changes (participant);"
    "CREATE INDEX preference_changes_program ON preference_changes (program, created_at);"
    "CREATE TABLE moments (id TEXT PRIMARY KEY, program TEXT NOT NULL,"
    "  participant TEXT NOT NULL, type TEXT NOT NULL, score INTEGER, provider_id TEXT,"
    "  occurred_at INTEGER NOT NULL, created_at INTEGER NOT NULL, decision TEXT NOT NULL,"
    "  reason TEXT, ask TEXT);"
    "CREATE UNIQUE INDEX moments_provider ON moments (program, provider_id)"
    "  WHERE provider_id IS NOT NULL;"
    "CREATE INDEX moments_participant ON moments (participant, occurred_at);"
    "CREATE TABLE asks (id TEXT PRIMARY KEY, program TEXT NOT NULL, participant TEXT NOT NULL,"
    "  moment TEXT NOT NULL, type TEXT NOT NULL, asked_at INTEGER NOT NULL,"
    "  answer_by INTEGER NOT NULL, answered_at INTEGER, created_at INTEGER NOT NULL);"
    "CREATE INDEX asks_participant ON asks (participant, asked_at);"
    "CREATE INDEX asks_open ON asks (participant, answer_by) WHERE answered_at IS NULL;"
    "CREATE TABLE spotlights (id TEXT PRIMARY KEY, program TEXT NOT NULL, period TEXT NOT NULL,"
    "  status TEXT NOT NULL, candidates TEXT NOT NULL, created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL, published_at INTEGER, UNIQUE (program, period));"
    "CREATE TABLE spotlight_winners (id TEXT PRIMARY KEY, spotlight TEXT NOT NULL,"
    "  program TEXT NOT NULL, period TEXT NOT NULL, participant TEXT NOT NULL,"
    "  category TEXT NOT NULL, note TEXT, reward TEXT, created_at INTEGER NOT NULL,"
    "  UNIQUE (spotlight, participant));"
    "CREATE INDEX spotlight_winners_participant ON spotlight_winners (participant);"
    "CREATE INDEX spotlight_winners_program ON spotlight_winners (program, period);"
    /* One digest per person and month, whoever sends it. */
    "CREATE TABLE digests (participant TEXT NOT NULL, period TEXT NOT NULL,"
    "  program TEXT NOT NULL, notification TEXT, created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (participant, period));"
    "CREATE TABLE ritual_runs (program TEXT NOT NULL, kind TEXT NOT NULL, period TEXT NOT NULL,"
    "  done INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (program, kind, period));",
    /* 7: admin accounts and sessions (section 21): Argon2id hashes and digests only */
    "CREATE TABLE admins (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, role TEXT NOT NULL,"
    "  password_hash TEXT NOT NULL, created_at INTEGER NOT NULL);"
    "CREATE TABLE admin_sessions (digest TEXT PRIMARY KEY, admin TEXT NOT NULL,"
    "  csrf_digest TEXT NOT NULL, created_at INTEGER NOT NULL, last_used_at INTEGER NOT NULL);"
    "CREATE INDEX admin_sessions_admin ON admin_sessions (admin);"
    "CREATE TABLE admin_failures (email TEXT NOT NULL, at INTEGER NOT NULL);"
    "CREATE INDEX admin_failures_email ON admin_failures (email, at);"
    "ALTER TABLE api_keys ADD COLUMN name TEXT;"
    "ALTER TABLE api_keys ADD COLUMN last_used_at INTEGER;",
    /* 8: reward fulfilment (CONTRACT section 25). One row per reward that kith delivers, keyed
     * by the reward's id, so a reward is never fulfilled twice; a Stripe call in flight is a
     * `sending` row whose lease (next_attempt_at) runs out if its process dies. The person's
     * Stripe objects live on the participant; a rule's months and percent_off on its rewards. */
    "CREATE TABLE fulfilments (id TEXT PRIMARY KEY, program TEXT NOT NULL,"
    "  participant TEXT NOT NULL, method TEXT NOT NULL, status TEXT NOT NULL, step TEXT,"
    "  attempts INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0,"
    "  generation INTEGER NOT NULL DEFAULT 1, verify INTEGER NOT NULL DEFAULT 0,"
    "  posted INTEGER NOT NULL DEFAULT 0, request TEXT, key_first_at INTEGER, cursor TEXT,"
    "  customer TEXT, coupon TEXT, external_id TEXT, code TEXT, error TEXT, claim TEXT,"
    "  claimed_at INTEGER, next_attempt_at INTEGER, created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL, done_at INTEGER);"
    "CREATE INDEX fulfilments_due ON fulfilments (status, next_attempt_at);"
    "CREATE INDEX fulfilments_queue ON fulfilments (program, method, status);"
    "CREATE INDEX fulfilments_participant ON fulfilments (participant);"
    "ALTER TABLE participants ADD COLUMN stripe_customer_id TEXT;"
    "ALTER TABLE participants ADD COLUMN stripe_subscription_id TEXT;"
    "ALTER TABLE rewards ADD COLUMN months INTEGER;"
    "ALTER TABLE rewards ADD COLUMN percent_off INTEGER;",
    /* 9: program health (section 22) and experiments (23). Rollups kept in the transactions
     * that change what they count (src/engine/health_rollups.c), rebuilt from the raw tables
     * when the meta key health_rollups is absent (a database that predates them):
     * health_people holds each participant's facts the figures need; health_weeks the weekly
     * counts per program (week = ISO week number since 1969-12-29, kith_stats_week_of);
     * health_costs the rewards issued per week and currency; health_hist the medians'
     * histograms (kind 'share' by the week of the first click, 'cycle' by the week of the
     * first own referral; buckets of kith_stats_bucket); health_qual the number of referrers
     * per all-time count of qualified referrals; sharer_weeks who got a click in which week;
     * health_buckets the buckets' lower bounds, for rebuilding in SQL. */
    "CREATE TABLE health_people (participant TEXT PRIMARY KEY, program TEXT NOT NULL,"
    "  joined_at INTEGER NOT NULL, side INTEGER NOT NULL DEFAULT 0,"
    "  active INTEGER NOT NULL DEFAULT 1, first_click_at INTEGER, share_bucket INTEGER,"
    "  last_week INTEGER, first_referral_at INTEGER, cycle_bucket INTEGER,"
    "  purchases INTEGER NOT NULL DEFAULT 0, refunds INTEGER NOT NULL DEFAULT 0,"
    "  revenue INTEGER NOT NULL DEFAULT 0, qualified INTEGER NOT NULL DEFAULT 0);"
    /* Who joined when, blocked and erased people too (the edges of a window; appended to). */
    "CREATE INDEX participants_joined ON participants (program, created_at);"
    /* Covering: the edges of a window count buckets by time, a median reads one bucket's
     * durations, both from the index alone. */
    "CREATE INDEX health_people_click ON health_people (program, first_click_at, share_bucket)"
    "  WHERE first_click_at IS NOT NULL;"
    "CREATE INDEX health_people_click_bucket ON health_people (program, share_bucket,"
    "  first_click_at, joined_at) WHERE first_click_at IS NOT NULL;"
    "CREATE INDEX health_people_cycle ON health_people (program, first_referral_at,"
    "  cycle_bucket) WHERE first_referral_at IS NOT NULL AND side = 1;"
    "CREATE INDEX health_people_cycle_bucket ON health_people (program, cycle_bucket,"
    "  first_referral_at, joined_at) WHERE first_referral_at IS NOT NULL AND side = 1;"
    "CREATE TABLE health_weeks (program TEXT NOT NULL, week INTEGER NOT NULL,"
    "  active INTEGER NOT NULL DEFAULT 0, activated INTEGER NOT NULL DEFAULT 0,"
    "  first_clicks INTEGER NOT NULL DEFAULT 0, cycles INTEGER NOT NULL DEFAULT 0,"
    "  clicks INTEGER NOT NULL DEFAULT 0, sharers INTEGER NOT NULL DEFAULT 0,"
    "  signups INTEGER NOT NULL DEFAULT 0, reviewed INTEGER NOT NULL DEFAULT 0,"
    "  rejected INTEGER NOT NULL DEFAULT 0, qualified INTEGER NOT NULL DEFAULT 0,"
    "  r_customers INTEGER NOT NULL DEFAULT 0, r_purchasers INTEGER NOT NULL DEFAULT 0,"
    "  r_refunded INTEGER NOT NULL DEFAULT 0, r_revenue INTEGER NOT NULL DEFAULT 0,"
    "  o_customers INTEGER NOT NULL DEFAULT 0, o_purchasers INTEGER NOT NULL DEFAULT 0,"
    "  o_refunded INTEGER NOT NULL DEFAULT 0, o_revenue INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (program, week)) WITHOUT ROWID;"
    "CREATE TABLE health_costs (program TEXT NOT NULL, week INTEGER NOT NULL,"
    "  currency TEXT NOT NULL, amount INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (program, week, currency)) WITHOUT ROWID;"
    "CREATE TABLE health_hist (program TEXT NOT NULL, kind TEXT NOT NULL,"
    "  week INTEGER NOT NULL, bucket INTEGER NOT NULL, n INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (program, kind, week, bucket)) WITHOUT ROWID;"
    "CREATE TABLE health_qual (program TEXT NOT NULL, k INTEGER NOT NULL,"
    "  referrers INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (program, k)) WITHOUT ROWID;"
    "CREATE TABLE sharer_weeks (program TEXT NOT NULL, week INTEGER NOT NULL,"
    "  participant TEXT NOT NULL, PRIMARY KEY (program, week, participant)) WITHOUT ROWID;"
    "CREATE TABLE health_buckets (low INTEGER PRIMARY KEY, bucket INTEGER NOT NULL);"
    /* One row per referral: whether fraud scoring ever sent it to review (review_rate), and
     * the experiment and variant it was made under (its rewards follow that variant). */
    "CREATE TABLE health_referrals (referral TEXT PRIMARY KEY, program TEXT NOT NULL,"
    "  referrer TEXT NOT NULL, created_at INTEGER NOT NULL, reviewed INTEGER NOT NULL DEFAULT 0,"
    "  experiment TEXT, variant TEXT);"
    "CREATE INDEX health_referrals_created ON health_referrals (program, created_at);"
    "CREATE INDEX health_referrals_experiment ON health_referrals (experiment, variant)"
    "  WHERE experiment IS NOT NULL;"
    "CREATE TABLE experiments (id TEXT PRIMARY KEY, program TEXT NOT NULL, name TEXT NOT NULL,"
    "  status TEXT NOT NULL, config TEXT NOT NULL, promoted_variant TEXT,"
    "  created_at INTEGER NOT NULL, started_at INTEGER, stopped_at INTEGER,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE INDEX experiments_program ON experiments (program, status);"
    /* One running experiment per program: this index, not a lookup, decides a race. */
    "CREATE UNIQUE INDEX experiments_running ON experiments (program)"
    "  WHERE status = 'running';"
    "CREATE INDEX experiments_due ON experiments (status, started_at);"
    /* The participants of an experiment who shared or referred while it ran. */
    "CREATE TABLE experiment_members (experiment TEXT NOT NULL, participant TEXT NOT NULL,"
    "  variant TEXT NOT NULL, shared INTEGER NOT NULL DEFAULT 0,"
    "  referred INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (experiment, participant));"
    "CREATE INDEX experiment_members_participant ON experiment_members (participant);"
    /* fatigue (section 22) counts a program's asks by time without reading the rows */
    "CREATE INDEX asks_program ON asks (program, asked_at, answered_at, answer_by);",
    /* 10: PostgreSQL splits its running counters into shards (pgsql_schema.h); SQLite's one
     * writer needs none. Kept so that a migration's number means the same change on both. */
    "SELECT 1;",
    /* 11: PostgreSQL splits program health's rollups into shards as well; nothing here. */
    "SELECT 1;",
    /* 12: fewer indexes written per signup (issue 17). participants_joined carries status and
     * erased, so it also answers participants_active's count (covering); referrals_hold holds
     * only referrals with a hold, notifications_outbox only notifications still to send (a
     * signup writes neither). */
    "DROP INDEX participants_active;"
    "DROP INDEX participants_joined;"
    "CREATE INDEX participants_joined ON participants (program, created_at, status, erased);"
    "DROP INDEX referrals_hold;"
    "CREATE INDEX referrals_hold ON referrals (status, hold_until) WHERE hold_until IS NOT NULL;"
    "DROP INDEX notifications_outbox;"
    "CREATE INDEX notifications_outbox ON notifications (status, created_at)"
    "  WHERE status IN ('queued', 'sending');",
};

#endif
