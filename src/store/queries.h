/*
 * queries.h: the named statements of the store interface, as SQLite SQL. Each back-end keeps a
 * table with the same names and the same positional arguments; the engine addresses them by name.
 * `?` placeholders take the JSON array's elements in order.
 */
#ifndef KITH_STORE_QUERIES_H
#define KITH_STORE_QUERIES_H

#include "kith/queries.h"

static const char *const kith_sqlite_sql[KITH_Q_COUNT] = {
    [KITH_Q_META_GET] = "SELECT value FROM meta WHERE key = ?",
    [KITH_Q_META_PUT] = "INSERT INTO meta (key, value) VALUES (?, ?)",
    [KITH_Q_META_DELETE] = "DELETE FROM meta WHERE key = ?",
    [KITH_Q_KEYS_BY_HASH] = "SELECT id, kind FROM api_keys WHERE hash = ?",
    [KITH_Q_KEYS_COUNT] = "SELECT count(*) AS n FROM api_keys",
    [KITH_Q_PROGRAMS_LIST] = "SELECT rowid AS cur, id, config, created_at, updated_at FROM programs"
                             " WHERE rowid > ? ORDER BY rowid LIMIT ?",
    [KITH_Q_PROGRAMS_FIRST_TWO] = "SELECT id FROM programs ORDER BY rowid LIMIT 2",
    [KITH_Q_PARTICIPANTS_BY_EXTERNAL] =
        "SELECT * FROM participants WHERE program = ? AND external_id = ?",
    [KITH_Q_PARTICIPANTS_LIST] =
        "SELECT rowid AS cur, * FROM participants WHERE rowid > ?1"
        " AND (?2 IS NULL OR program = ?2) AND (?3 IS NULL OR external_id = ?3)"
        " AND (?4 IS NULL OR email_norm = ?4) ORDER BY rowid LIMIT ?5",
    [KITH_Q_PARTICIPANTS_STATS] =
        "SELECT (SELECT clicks FROM participants WHERE id = ?1) AS clicks,"
        " (SELECT count(*) FROM referrals WHERE referrer = ?1) AS signups,"
        " (SELECT count(*) FROM referrals WHERE referrer = ?1"
        "   AND status IN ('qualified', 'rewarded')) AS qualified,"
        " (SELECT count(*) FROM referrals WHERE referrer = ?1 AND status = 'rewarded') AS rewarded",
    [KITH_Q_CODES_INSERT] = "INSERT INTO codes (norm, code, participant, kind, created_at)"
                            " VALUES (?, ?, ?, ?, ?)",
    /* A code and its owner's whole row (the code that matched is `matched`). */
    [KITH_Q_CODES_FIND] = "SELECT p.*, c.code AS matched, c.participant FROM codes c"
                          " JOIN participants p ON p.id = c.participant WHERE c.norm = ?",
    [KITH_Q_CODES_OF] = "SELECT code FROM codes WHERE participant = ? ORDER BY created_at, rowid",
    [KITH_Q_PREFIX_TAKEN] = "SELECT taken FROM code_prefixes WHERE prefix = ?",
    [KITH_Q_PREFIX_BUMP] = "INSERT INTO code_prefixes (prefix, taken) VALUES (?, 1)"
                           " ON CONFLICT (prefix) DO UPDATE SET taken = code_prefixes.taken + 1",
    /* A whole batch in one statement: the argument is a JSON array of click objects. */
    [KITH_Q_CLICKS_INSERT_MANY] =
        "INSERT OR IGNORE INTO clicks (id, program, participant, code, created_at, channel,"
        " referrer_host, ip_hash, ua_hash, resource) SELECT json_extract(value, '$.id'),"
        " json_extract(value, '$.program'), json_extract(value, '$.participant'),"
        " json_extract(value, '$.code'), json_extract(value, '$.created_at'),"
        " json_extract(value, '$.channel'), json_extract(value, '$.referrer_host'),"
        " json_extract(value, '$.ip_hash'), json_extract(value, '$.ua_hash'),"
        " json_extract(value, '$.resource') FROM json_each(?)",
    /* A click and its referrer's whole row. */
    [KITH_Q_CLICKS_FIND] = "SELECT p.*, c.id AS click_id, c.created_at AS click_at, c.channel,"
                           " c.referrer_host, c.code AS matched, c.participant,"
                           " c.resource AS click_resource FROM clicks c"
                           " JOIN participants p ON p.id = c.participant WHERE c.id = ?",
    [KITH_Q_REFERRALS_OF_REFERRED] = "SELECT * FROM referrals WHERE referred = ?",
    [KITH_Q_REFERRALS_LIST] = "SELECT rowid AS cur, * FROM referrals WHERE rowid > ?1"
                              " AND (?2 IS NULL OR program = ?2) AND (?3 IS NULL OR status = ?3)"
                              " AND (?4 IS NULL OR referrer = ?4) ORDER BY rowid LIMIT ?5",
    [KITH_Q_REFERRALS_DUE_EXPIRY] = "SELECT * FROM referrals WHERE status = 'pending'"
                                    " AND expires_at IS NOT NULL AND expires_at <= ? LIMIT 500",
    [KITH_Q_REFERRALS_DUE_HOLD] = "SELECT * FROM referrals WHERE status = 'qualified'"
                                  " AND hold_until IS NOT NULL AND hold_until <= ? LIMIT 500",
    [KITH_Q_REWARDS_OF_REFERRAL] = "SELECT * FROM rewards WHERE referral = ? ORDER BY rowid",
    [KITH_Q_REWARDS_OF_EVENT] = "SELECT * FROM rewards WHERE event = ? ORDER BY rowid",
    [KITH_Q_REWARDS_REFERRER_LIVE] =
        "SELECT count(*) AS n FROM rewards WHERE participant = ? AND program = ?"
        " AND side = 'referrer' AND status <> 'voided'",
    [KITH_Q_REWARDS_LIST] = "SELECT rowid AS cur, * FROM rewards WHERE rowid > ?1"
                            " AND (?2 IS NULL OR program = ?2) AND (?3 IS NULL OR participant = ?3)"
                            " AND (?4 IS NULL OR status = ?4) ORDER BY rowid LIMIT ?5",
    [KITH_Q_REWARDS_DUE_EXPIRY] = "SELECT * FROM rewards WHERE status = 'issued'"
                                  " AND expires_at IS NOT NULL AND expires_at <= ? LIMIT 500",
    [KITH_Q_EVENTS_BY_PROVIDER] = "SELECT * FROM events WHERE program = ? AND provider_id = ?",
    [KITH_Q_EVENTS_QUALIFYING] =
        "SELECT * FROM events WHERE participant = ? AND type = ? AND coalesce(amount, 0) >= ?"
        " AND occurred_at >= ? ORDER BY occurred_at, rowid LIMIT 1",
    /* The refunds and cancels of a person dated in [?2, ?3): `whole` counts those that undo a
     * purchase whole (a cancel, a refund without an amount); `partial` and `refunded` count and
     * add up the refunds with an amount. Refunds sharing an external_ref carry one running total
     * (a Stripe charge's amount_refunded), so each such group counts once, at its largest. */
    [KITH_Q_EVENTS_UNDO_AFTER] =
        "SELECT coalesce(sum(whole), 0) AS whole, count(amount) AS partial,"
        " coalesce(sum(amount), 0) AS refunded FROM (SELECT max(CASE WHEN type = 'cancel'"
        " OR amount IS NULL THEN 1 ELSE 0 END) AS whole, max(amount) AS amount FROM events"
        " WHERE participant = ?1 AND type IN ('refund', 'cancel') AND occurred_at >= ?2"
        " AND occurred_at < ?3 GROUP BY coalesce(external_ref, id)) AS t",
    /* Signals only need to know whether a threshold is reached: counts stop there, so a
     * referrer with a million referrals costs what one with ten does. */
    /* The referrer's referrals created before the new one: velocity counts those created after
     * the first time and up to the second, look-alike e-mails those up to it. The bound is the
     * new referral's created_at (a backdated signup counts only what came before its time), or
     * a little past it when that is the server's now, so a referral stamped a little "later"
     * by another instance's clock, though stored first, still counts (scoring.c). */
    [KITH_Q_FRAUD_RECENT] = "SELECT count(*) AS n FROM (SELECT 1 FROM referrals WHERE referrer = ?"
                            " AND created_at > ? AND created_at <= ? LIMIT ?) AS recent",
    /* "+created_at": the time is a filter, not an index range, so SQLite (which plans without
     * statistics) walks referrals_stem's few rows of this stem and not every referral of the
     * referrer through referrals_referrer (0.09x of the unscored rate at 70k referrals) */
    [KITH_Q_FRAUD_STEM] = "SELECT count(*) AS n FROM (SELECT 1 FROM referrals WHERE referrer = ?"
                          " AND email_domain = ? AND email_stem = ? AND +created_at <= ? LIMIT 2)"
                          " AS same_stem",
    /* Both counts in one statement, for an e-mail whose stem is counted: one round trip fewer
     * per scored signup (on PostgreSQL each statement costs the server about as much in
     * messages, portals and executor start as these reads do). Same bounds as the two above:
     * ?1 referrer, ?2/?3 the velocity window, ?4 its cap, ?5/?6 the domain and stem. */
    [KITH_Q_FRAUD_RECENT_STEM] =
        "SELECT (SELECT count(*) FROM (SELECT 1 FROM referrals WHERE referrer = ?1"
        " AND created_at > ?2 AND created_at <= ?3 LIMIT ?4) AS recent) AS n,"
        " (SELECT count(*) FROM (SELECT 1 FROM referrals WHERE referrer = ?1"
        " AND email_domain = ?5 AND email_stem = ?6 AND +created_at <= ?3 LIMIT 2) AS same_stem)"
        " AS stem",
    [KITH_Q_FRAUD_PAYMENT] = "SELECT count(*) AS n FROM (SELECT 1 FROM events WHERE participant = ?"
                             " AND payment_fingerprint = ? LIMIT 1) AS paid",
    [KITH_Q_DECISIONS_OF] = "SELECT * FROM decisions WHERE referral = ? ORDER BY rowid",
    [KITH_Q_IDEM_GET] = "SELECT request_hash, status, body, created_at FROM idempotency"
                        " WHERE scope = ? AND key = ?",
    [KITH_Q_IDEM_PUT] =
        "INSERT INTO idempotency (scope, key, request_hash, status, body, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (scope, key) DO UPDATE SET"
        " request_hash = excluded.request_hash, status = excluded.status,"
        " body = excluded.body, created_at = excluded.created_at",
    [KITH_Q_IDEM_EXPIRE] = "DELETE FROM idempotency WHERE created_at < ?",
    /* Only the clicks that aged out since the last sweep ([?3, ?1)): a scan of every old click
     * each second would hold the one writer for seconds at ten million clicks. */
    [KITH_Q_CLICKS_DROP_HASHES] = "UPDATE clicks SET ip_hash = NULL, ua_hash = NULL"
                                  " WHERE created_at < ?1 AND program = ?2 AND created_at >= ?3"
                                  " AND ip_hash IS NOT NULL",
    /* Where a sweep's share of that work ends: 10,000 clicks on, so a backlog (a first start
     * on a large database) is worked off in slices that never hold the writer for long. */
    [KITH_Q_CLICKS_DROP_UPTO] = "SELECT created_at FROM clicks WHERE program = ?1"
                                " AND created_at >= ?2 AND created_at < ?3"
                                " ORDER BY created_at LIMIT 1 OFFSET 10000",
    /* How far it got; an upsert, as two sweeps may run at once on a pool. */
    [KITH_Q_CLICKS_DROP_MARK] = "INSERT INTO meta (key, value) VALUES (?, ?)"
                                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    [KITH_Q_HEALTH] = "SELECT 1 AS ok",
    /* One writer serialises everything here; PostgreSQL takes an advisory lock instead. */
    [KITH_Q_IDEM_LOCK] = "SELECT 1 AS locked WHERE ? IS NOT NULL",
    /* Rollups kept with every click batch and participant change, so metrics stay fast. */
    [KITH_Q_CLICKHOURS_ADD] =
        "INSERT INTO click_hours (program, hour, channel, clicks) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (program, hour, channel) DO UPDATE"
        " SET clicks = click_hours.clicks + excluded.clicks",
    /* ... and whether the participant has an ask open past ?3 (their first click of the batch)
     * that the clicks may answer: most have none, and their clicks then skip the asks (asks_open
     * is on (participant, answer_by) WHERE answered_at IS NULL). */
    [KITH_Q_PARTICIPANTS_ADD_CLICKS] =
        "UPDATE participants SET clicks = clicks + ?2 WHERE id = ?1 RETURNING clicks,"
        " CASE WHEN EXISTS (SELECT 1 FROM asks WHERE participant = ?1 AND answered_at IS NULL"
        " AND answer_by > ?3) THEN 1 ELSE 0 END AS open_asks",
    [KITH_Q_COUNTS_ADD] = "INSERT INTO program_counts (program, participants_active, sharers)"
                          " VALUES (?, ?, ?) ON CONFLICT (program) DO UPDATE SET"
                          " participants_active = program_counts.participants_active"
                          " + excluded.participants_active,"
                          " sharers = program_counts.sharers + excluded.sharers",
    [KITH_Q_COUNTS_GET] =
        "SELECT participants_active, sharers FROM program_counts WHERE program = ?",
    [KITH_Q_METRICS_CLICK_HOURS] = "SELECT channel, sum(clicks) AS clicks FROM click_hours"
                                   " WHERE program = ? AND hour >= ? AND hour < ? GROUP BY channel",
    [KITH_Q_REFERRALS_BY_STATUS] = "SELECT status, count(*) AS n FROM referrals GROUP BY status",
    [KITH_Q_WEBHOOKS_ENABLED] = "SELECT id, events FROM webhook_endpoints WHERE status = 'enabled'",
    [KITH_Q_WEBHOOKS_LIST] = "SELECT rowid AS cur, * FROM webhook_endpoints WHERE rowid > ?"
                             " ORDER BY rowid LIMIT ?",
    [KITH_Q_WEBHOOKS_DELETE] = "DELETE FROM webhook_endpoints WHERE id = ?",
    [KITH_Q_WEBHOOKS_CANCEL] = "UPDATE webhook_deliveries SET status = 'cancelled', updated_at = ?2"
                               " WHERE endpoint = ?1 AND status IN ('pending', 'sending')",
    [KITH_Q_DELIVERIES_INSERT] =
        "INSERT OR IGNORE INTO webhook_deliveries (id, endpoint, message, status,"
        " attempts, next_attempt_at, created_at, updated_at)"
        " VALUES (?, ?, ?, 'pending', 0, ?, ?, ?)",
    [KITH_Q_DELIVERIES_RECOVER] = "UPDATE webhook_deliveries SET status = 'pending'"
                                  " WHERE status = 'sending'",
    [KITH_Q_DELIVERIES_DUE] =
        "SELECT d.id, d.attempts, d.message, e.id AS endpoint, e.url, e.secret,"
        " m.payload FROM webhook_deliveries d"
        " JOIN webhook_endpoints e ON e.id = d.endpoint"
        " JOIN webhook_messages m ON m.id = d.message"
        " WHERE d.status IN ('pending', 'sending') AND d.next_attempt_at <= ?"
        " AND e.status = 'enabled' ORDER BY d.next_attempt_at LIMIT ?",
    /* A claim is a lease: `sending` until next_attempt_at; an instance that dies mid-send
     * leaves a lease that runs out, and the row is due again for any instance. */
    [KITH_Q_DELIVERIES_CLAIM] = "UPDATE webhook_deliveries SET status = 'sending', updated_at = ?2,"
                                " next_attempt_at = ?3 WHERE id = ?1"
                                " AND status IN ('pending', 'sending') AND next_attempt_at <= ?2",
    [KITH_Q_DELIVERIES_OF_MESSAGE] =
        "SELECT * FROM webhook_deliveries WHERE endpoint = ? AND message = ?",
    [KITH_Q_ATTEMPTS_LIST] = "SELECT a.rowid AS cur, a.*, m.type FROM webhook_attempts a"
                             " JOIN webhook_messages m ON m.id = a.message WHERE a.endpoint = ?2"
                             " AND a.rowid > ?1 ORDER BY a.rowid LIMIT ?3",
    [KITH_Q_NOTIFICATIONS_LIST] = "SELECT rowid AS cur, * FROM notifications WHERE participant = ?2"
                                  " AND rowid > ?1 ORDER BY rowid LIMIT ?3",
    /* The IN term names notifications_outbox's rows (a partial index), for SQLite's planner. */
    [KITH_Q_NOTIFICATIONS_OUTBOX] =
        "SELECT n.id, n.subject, n.body, n.attempts, p.email"
        " FROM notifications n JOIN participants p ON p.id = n.participant"
        " WHERE n.status IN ('queued', 'sending') AND (n.status = 'queued' OR (n.status = 'sending'"
        " AND n.lease_until <= ?1)) ORDER BY n.created_at LIMIT ?2",
    [KITH_Q_NOTIFICATIONS_SENDING] = "UPDATE notifications SET status = 'sending', lease_until = ?3"
                                     " WHERE id = ?1 AND (status = 'queued' OR (status = 'sending'"
                                     " AND lease_until <= ?2))",
    /* The IN term names notifications_outbox's rows (a partial index), for SQLite's planner. */
    [KITH_Q_NOTIFICATIONS_RECOVER] =
        "UPDATE notifications SET status = 'queued'"
        " WHERE status IN ('queued', 'sending') AND status = 'sending'",
    /* Notifications of the person and of every referral they took part in (the other side's
     * quote their name); those still waiting for their e-mail are not sent any more. */
    [KITH_Q_ERASE_NOTIFICATIONS] =
        "UPDATE notifications SET subject = NULL, body = NULL,"
        " status = CASE WHEN status IN ('queued', 'sending') THEN 'erased' ELSE status END"
        " WHERE participant = ?1 OR referral IN (SELECT id FROM referrals"
        " WHERE referrer = ?1 OR referred = ?1)",
    /* The notification.created messages of those notifications that name neither the person
     * nor their id (the referrer's "Xanthippe joined through you"): their texts go, the rest of
     * the message (and its pending deliveries) stays. */
    [KITH_Q_ERASE_NOTICE_MESSAGES] =
        "UPDATE webhook_messages SET payload = json_set(payload, '$.data.subject', json('null'),"
        " '$.data.body', json('null')) WHERE type = 'notification.created'"
        " AND json_extract(payload, '$.data.referral') IN (SELECT id FROM referrals"
        " WHERE referrer = ?1 OR referred = ?1)",
    [KITH_Q_ERASE_MESSAGES] =
        "UPDATE webhook_messages SET payload = json_object('id', id, 'type', type,"
        " 'created_at', strftime('%Y-%m-%dT%H:%M:%SZ', created_at / 1000,"
        " 'unixepoch'), 'data', json_object('erased', json('true')))"
        " WHERE instr(payload, ?) > 0",
    [KITH_Q_EXPORT_NOTIFICATIONS] = "SELECT * FROM notifications WHERE participant = ?"
                                    " ORDER BY created_at, rowid",
    [KITH_Q_EVENTS_BY_EXTERNAL_REF] = "SELECT * FROM events WHERE program = ? AND external_ref = ?"
                                      " ORDER BY rowid LIMIT 1",
    [KITH_Q_EVENTS_BY_REF] = "SELECT e.* FROM event_refs r JOIN events e ON e.id = r.event"
                             " WHERE r.program = ? AND r.ref = ? ORDER BY e.rowid LIMIT 1",
    [KITH_Q_PARTICIPANTS_BY_EMAIL] =
        "SELECT * FROM participants WHERE program = ? AND email_norm = ?"
        " ORDER BY rowid LIMIT 1",
    [KITH_Q_METRICS_PARTICIPANTS] = "SELECT count(*) AS n FROM participants WHERE program = ?"
                                    " AND created_at < ? AND status = 'active' AND erased = 0",
    [KITH_Q_METRICS_CLICKS] =
        "SELECT coalesce(channel, 'none') AS channel, count(*) AS clicks"
        " FROM clicks WHERE program = ? AND created_at >= ? AND created_at < ?"
        " GROUP BY coalesce(channel, 'none')",
    [KITH_Q_METRICS_SHARERS] = "SELECT count(DISTINCT participant) AS n FROM clicks"
                               " WHERE program = ? AND created_at >= ? AND created_at < ?",
    [KITH_Q_METRICS_SIGNUPS] =
        "SELECT coalesce(channel, 'none') AS channel, count(*) AS signups"
        " FROM referrals WHERE program = ? AND created_at >= ? AND created_at < ?"
        " GROUP BY coalesce(channel, 'none')",
    [KITH_Q_METRICS_QUALIFIED] = "SELECT referrer, count(*) AS n FROM referrals WHERE program = ?"
                                 " AND qualified_at >= ? AND qualified_at < ?"
                                 " AND status IN ('qualified', 'rewarded') GROUP BY referrer"
                                 " ORDER BY n DESC",
    [KITH_Q_METRICS_COST] = "SELECT currency, sum(amount) AS total FROM rewards WHERE program = ?"
                            " AND issued_at >= ? AND issued_at < ? AND status <> 'voided'"
                            " AND amount IS NOT NULL AND currency IS NOT NULL GROUP BY currency",
    [KITH_Q_LEADERBOARD] =
        "SELECT p.id, p.first_name, count(*) AS qualified FROM referrals r"
        " JOIN participants p ON p.id = r.referrer WHERE r.program = ?1"
        " AND r.status IN ('qualified', 'rewarded') AND r.qualified_at >= ?2"
        " AND p.leaderboard_opt_in = 1 AND p.status = 'active' AND p.erased = 0"
        " GROUP BY p.id ORDER BY qualified DESC, min(r.qualified_at), p.id LIMIT ?3",
    [KITH_Q_EXPORT_CODES] = "SELECT code, kind, created_at FROM codes WHERE participant = ?"
                            " ORDER BY created_at, rowid",
    [KITH_Q_EXPORT_CLICKS] = "SELECT id, code, created_at, channel, referrer_host,"
                             " ip_hash IS NOT NULL AS has_ip_hash FROM clicks WHERE participant = ?"
                             " ORDER BY created_at, rowid LIMIT 100000",
    [KITH_Q_EXPORT_REFERRALS_MADE] =
        "SELECT * FROM referrals WHERE referrer = ? ORDER BY created_at, rowid",
    [KITH_Q_EXPORT_REWARDS] =
        "SELECT * FROM rewards WHERE participant = ? ORDER BY created_at, rowid",
    [KITH_Q_EXPORT_EVENTS] =
        "SELECT * FROM events WHERE participant = ? ORDER BY occurred_at, rowid",
    [KITH_Q_EXPORT_DECISIONS] =
        "SELECT d.* FROM decisions d JOIN referrals r ON r.id = d.referral"
        " WHERE r.referrer = ?1 OR r.referred = ?1 ORDER BY d.created_at, d.rowid",
    [KITH_Q_ERASE_PARTICIPANT] =
        "UPDATE participants SET email = NULL, email_norm = NULL,"
        " first_name = NULL, metadata = NULL, ip_hash = NULL, device_id = NULL,"
        " payment_fingerprint = NULL, erased = 1, updated_at = ?2 WHERE id = ?1",
    [KITH_Q_ERASE_EVENTS] = "UPDATE events SET payment_fingerprint = NULL WHERE participant = ?",
    [KITH_Q_ERASE_REFERRALS] = "UPDATE referrals SET email_domain = NULL, email_stem = NULL"
                               " WHERE referred = ?",
    [KITH_Q_ERASE_CLICKS] =
        "UPDATE clicks SET ip_hash = NULL, ua_hash = NULL WHERE id IN"
        " (SELECT click FROM referrals WHERE referred = ? AND click IS NOT NULL)",
    [KITH_Q_ERASE_IDEMPOTENCY] = "DELETE FROM idempotency WHERE instr(body, ?) > 0",
/* Each feature's statements, in a file of its own. */
#include "store/sql/admin_sqlite.inc"
#include "store/sql/advocacy_sqlite.inc"
#include "store/sql/asks_sqlite.inc"
#include "store/sql/experiments_sqlite.inc"
#include "store/sql/fulfilment_sqlite.inc"
#include "store/sql/health_sqlite.inc"
#include "store/sql/hub_sqlite.inc"
#include "store/sql/operations_sqlite.inc"
#include "store/sql/resources_sqlite.inc"
};

/*
 * PostgreSQL: the same names. Statements are shared where the SQL is common (placeholders `?`
 * and `?N` become `$N`, `rowid` becomes the `seq` column, `INSERT OR IGNORE` becomes
 * `ON CONFLICT DO NOTHING`); the ones below replace those that differ: row locks for work that
 * every instance may claim at once, and functions with other names.
 */
static const char *const kith_pgsql_sql[KITH_Q_COUNT] = {
    /* Several instances: what another one is sending is not ours to reset; leases run out. */
    [KITH_Q_DELIVERIES_RECOVER] = "SELECT 1 AS none",
    [KITH_Q_NOTIFICATIONS_RECOVER] = "SELECT 1 AS none",
    [KITH_Q_IDEM_LOCK] = "SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked",
    [KITH_Q_CLICKS_INSERT_MANY] =
        "INSERT INTO clicks (id, program, participant, code, created_at, channel, referrer_host,"
        " ip_hash, ua_hash, resource) SELECT x.id, x.program, x.participant, x.code,"
        " x.created_at, x.channel, x.referrer_host, x.ip_hash, x.ua_hash, x.resource"
        " FROM json_to_recordset($1::json) AS x(id text, program text, participant text,"
        " code text, created_at bigint, channel text, referrer_host text, ip_hash text,"
        " ua_hash text, resource text) ON CONFLICT DO NOTHING",
    [KITH_Q_REFERRALS_OF_REFERRED] = "SELECT * FROM referrals WHERE referred = $1 FOR UPDATE",
    [KITH_Q_REFERRALS_DUE_EXPIRY] = "SELECT * FROM referrals WHERE status = 'pending'"
                                    " AND expires_at IS NOT NULL AND expires_at <= $1 LIMIT 500"
                                    " FOR UPDATE SKIP LOCKED",
    [KITH_Q_REFERRALS_DUE_HOLD] = "SELECT * FROM referrals WHERE status = 'qualified'"
                                  " AND hold_until IS NOT NULL AND hold_until <= $1 LIMIT 500"
                                  " FOR UPDATE SKIP LOCKED",
    [KITH_Q_REWARDS_DUE_EXPIRY] = "SELECT * FROM rewards WHERE status = 'issued'"
                                  " AND expires_at IS NOT NULL AND expires_at <= $1 LIMIT 500"
                                  " FOR UPDATE SKIP LOCKED",
    [KITH_Q_DELIVERIES_DUE] =
        "SELECT d.id, d.attempts, d.message, e.id AS endpoint, e.url, e.secret,"
        " m.payload FROM webhook_deliveries d"
        " JOIN webhook_endpoints e ON e.id = d.endpoint"
        " JOIN webhook_messages m ON m.id = d.message"
        " WHERE d.status IN ('pending', 'sending') AND d.next_attempt_at <= $1"
        " AND e.status = 'enabled' ORDER BY d.next_attempt_at LIMIT $2"
        " FOR UPDATE OF d SKIP LOCKED",
    [KITH_Q_NOTIFICATIONS_OUTBOX] =
        "SELECT n.id, n.subject, n.body, n.attempts, p.email"
        " FROM notifications n JOIN participants p ON p.id = n.participant"
        " WHERE n.status IN ('queued', 'sending') AND (n.status = 'queued' OR (n.status = 'sending'"
        " AND n.lease_until <= $1)) ORDER BY n.created_at LIMIT $2"
        " FOR UPDATE OF n SKIP LOCKED",
    [KITH_Q_ERASE_IDEMPOTENCY] = "DELETE FROM idempotency WHERE strpos(body, $1) > 0",
    [KITH_Q_ERASE_NOTICE_MESSAGES] =
        "UPDATE webhook_messages SET payload = jsonb_set(jsonb_set(payload::jsonb,"
        " '{data,subject}', 'null'), '{data,body}', 'null')::text"
        " WHERE type = 'notification.created' AND (payload::jsonb #>> '{data,referral}') IN"
        " (SELECT id FROM referrals WHERE referrer = $1 OR referred = $1)",
    [KITH_Q_ERASE_MESSAGES] =
        "UPDATE webhook_messages SET payload = json_build_object('id', id,"
        " 'type', type, 'created_at', to_char(to_timestamp(created_at / 1000)"
        " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), 'data',"
        " json_build_object('erased', true))::text WHERE strpos(payload, $1) > 0",
    [KITH_Q_LEADERBOARD] =
        "SELECT p.id, p.first_name, count(*) AS qualified FROM referrals r"
        " JOIN participants p ON p.id = r.referrer WHERE r.program = $1"
        " AND r.status IN ('qualified', 'rewarded') AND r.qualified_at >= $2"
        " AND p.leaderboard_opt_in = 1 AND p.status = 'active' AND p.erased = 0"
        " GROUP BY p.id, p.first_name ORDER BY qualified DESC, min(r.qualified_at),"
        " p.id LIMIT $3",
/* Each feature's own PostgreSQL statements. */
#include "store/sql/admin_pgsql.inc"
#include "store/sql/advocacy_pgsql.inc"
#include "store/sql/asks_pgsql.inc"
#include "store/sql/experiments_pgsql.inc"
#include "store/sql/fulfilment_pgsql.inc"
#include "store/sql/health_pgsql.inc"
#include "store/sql/hub_pgsql.inc"
#include "store/sql/operations_pgsql.inc"
#include "store/sql/resources_pgsql.inc"
};

#endif
