/*
 * queries.h: the ids of the store's named statements, known at compile time. The engine names a
 * statement by its id (KITH_Q_PARTICIPANTS_BY_EXTERNAL); each back-end holds an array of SQL
 * indexed by id (src/store/queries.h), so no statement is looked up by string at run time. The
 * dotted name travels with the id for logs and errors only.
 *
 * Ownership and threads: compile-time constants; kith_query_name returns static strings.
 */
#ifndef KITH_QUERIES_H
#define KITH_QUERIES_H

/* X(ID, "dotted.name") */
#define KITH_QUERIES_CORE(X)                                                                       \
    X(META_GET, "meta.get")                                                                        \
    X(META_PUT, "meta.put")                                                                        \
    X(META_DELETE, "meta.delete")                                                                  \
    X(KEYS_BY_HASH, "keys.by_hash")                                                                \
    X(KEYS_COUNT, "keys.count")                                                                    \
    X(PROGRAMS_LIST, "programs.list")                                                              \
    X(PROGRAMS_FIRST_TWO, "programs.first_two")                                                    \
    X(PARTICIPANTS_BY_EXTERNAL, "participants.by_external")                                        \
    X(PARTICIPANTS_LIST, "participants.list")                                                      \
    X(PARTICIPANTS_STATS, "participants.stats")                                                    \
    X(CODES_INSERT, "codes.insert")                                                                \
    X(CODES_FIND, "codes.find")                                                                    \
    X(CODES_OF, "codes.of")                                                                        \
    X(PREFIX_TAKEN, "prefix.taken")                                                                \
    X(PREFIX_BUMP, "prefix.bump")                                                                  \
    X(CLICKS_INSERT_MANY, "clicks.insert_many")                                                    \
    X(CLICKS_FIND, "clicks.find")                                                                  \
    X(REFERRALS_OF_REFERRED, "referrals.of_referred")                                              \
    X(REFERRALS_LIST, "referrals.list")                                                            \
    X(REFERRALS_DUE_EXPIRY, "referrals.due_expiry")                                                \
    X(REFERRALS_DUE_HOLD, "referrals.due_hold")                                                    \
    X(REWARDS_OF_REFERRAL, "rewards.of_referral")                                                  \
    X(REWARDS_OF_EVENT, "rewards.of_event")                                                        \
    X(REWARDS_REFERRER_LIVE, "rewards.referrer_live")                                              \
    X(REWARDS_LIST, "rewards.list")                                                                \
    X(REWARDS_DUE_EXPIRY, "rewards.due_expiry")                                                    \
    X(EVENTS_BY_PROVIDER, "events.by_provider")                                                    \
    X(EVENTS_QUALIFYING, "events.qualifying")                                                      \
    X(EVENTS_UNDO_AFTER, "events.undo_after")                                                      \
    X(FRAUD_RECENT, "fraud.recent")                                                                \
    X(FRAUD_STEM, "fraud.stem")                                                                    \
    X(FRAUD_RECENT_STEM, "fraud.recent_stem")                                                      \
    X(FRAUD_PAYMENT, "fraud.payment")                                                              \
    X(DECISIONS_OF, "decisions.of")                                                                \
    X(IDEM_GET, "idem.get")                                                                        \
    X(IDEM_PUT, "idem.put")                                                                        \
    X(IDEM_EXPIRE, "idem.expire")                                                                  \
    X(CLICKS_DROP_HASHES, "clicks.drop_hashes")                                                    \
    X(CLICKS_DROP_UPTO, "clicks.drop_upto")                                                        \
    X(CLICKS_DROP_MARK, "clicks.drop_mark")                                                        \
    X(HEALTH, "health")                                                                            \
    X(IDEM_LOCK, "idem.lock")                                                                      \
    X(CLICKHOURS_ADD, "clickhours.add")                                                            \
    X(PARTICIPANTS_ADD_CLICKS, "participants.add_clicks")                                          \
    X(COUNTS_ADD, "counts.add")                                                                    \
    X(COUNTS_GET, "counts.get")                                                                    \
    X(METRICS_CLICK_HOURS, "metrics.click_hours")                                                  \
    X(REFERRALS_BY_STATUS, "referrals.by_status")                                                  \
    X(WEBHOOKS_ENABLED, "webhooks.enabled")                                                        \
    X(WEBHOOKS_LIST, "webhooks.list")                                                              \
    X(WEBHOOKS_DELETE, "webhooks.delete")                                                          \
    X(WEBHOOKS_CANCEL, "webhooks.cancel")                                                          \
    X(DELIVERIES_INSERT, "deliveries.insert")                                                      \
    X(DELIVERIES_RECOVER, "deliveries.recover")                                                    \
    X(DELIVERIES_DUE, "deliveries.due")                                                            \
    X(DELIVERIES_CLAIM, "deliveries.claim")                                                        \
    X(DELIVERIES_OF_MESSAGE, "deliveries.of_message")                                              \
    X(ATTEMPTS_LIST, "attempts.list")                                                              \
    X(NOTIFICATIONS_LIST, "notifications.list")                                                    \
    X(NOTIFICATIONS_OUTBOX, "notifications.outbox")                                                \
    X(NOTIFICATIONS_SENDING, "notifications.sending")                                              \
    X(NOTIFICATIONS_RECOVER, "notifications.recover")                                              \
    X(ERASE_NOTIFICATIONS, "erase.notifications")                                                  \
    X(ERASE_MESSAGES, "erase.messages")                                                            \
    X(ERASE_NOTICE_MESSAGES, "erase.notice_messages")                                              \
    X(EXPORT_NOTIFICATIONS, "export.notifications")                                                \
    X(EVENTS_BY_EXTERNAL_REF, "events.by_external_ref")                                            \
    X(EVENTS_BY_REF, "events.by_ref")                                                              \
    X(PARTICIPANTS_BY_EMAIL, "participants.by_email")                                              \
    X(METRICS_PARTICIPANTS, "metrics.participants")                                                \
    X(METRICS_CLICKS, "metrics.clicks")                                                            \
    X(METRICS_SHARERS, "metrics.sharers")                                                          \
    X(METRICS_SIGNUPS, "metrics.signups")                                                          \
    X(METRICS_QUALIFIED, "metrics.qualified")                                                      \
    X(METRICS_COST, "metrics.cost")                                                                \
    X(LEADERBOARD, "leaderboard")                                                                  \
    X(EXPORT_CODES, "export.codes")                                                                \
    X(EXPORT_CLICKS, "export.clicks")                                                              \
    X(EXPORT_REFERRALS_MADE, "export.referrals_made")                                              \
    X(EXPORT_REWARDS, "export.rewards")                                                            \
    X(EXPORT_EVENTS, "export.events")                                                              \
    X(EXPORT_DECISIONS, "export.decisions")                                                        \
    X(ERASE_PARTICIPANT, "erase.participant")                                                      \
    X(ERASE_EVENTS, "erase.events")                                                                \
    X(ERASE_REFERRALS, "erase.referrals")                                                          \
    X(ERASE_CLICKS, "erase.clicks")                                                                \
    X(ERASE_IDEMPOTENCY, "erase.idempotency")

#include "kith/queries/admin.h"
#include "kith/queries/advocacy.h"
#include "kith/queries/asks.h"
#include "kith/queries/experiments.h"
#include "kith/queries/fulfilment.h"
#include "kith/queries/health.h"
#include "kith/queries/hub.h"
#include "kith/queries/operations.h"
#include "kith/queries/resources.h"

/* Every statement: the core's and each feature's (one header each, so features grow apart). */
/* clang-format off */
#define KITH_QUERY_LIST(X)                                                                         \
    KITH_QUERIES_CORE(X) KITH_QUERIES_ADVOCACY(X) KITH_QUERIES_ASKS(X) KITH_QUERIES_RESOURCES(X)   \
    KITH_QUERIES_HUB(X) KITH_QUERIES_ADMIN(X) KITH_QUERIES_HEALTH(X) KITH_QUERIES_EXPERIMENTS(X)   \
    KITH_QUERIES_FULFILMENT(X) KITH_QUERIES_OPERATIONS(X)
/* clang-format on */

enum kith_query {
#define KITH_Q_ENUM_(id, name) KITH_Q_##id,
    KITH_QUERY_LIST(KITH_Q_ENUM_)
#undef KITH_Q_ENUM_
        KITH_Q_COUNT
};

/* The dotted name of q, for logs ("participants.by_external"). */
const char *kith_query_name(enum kith_query q);

#endif
