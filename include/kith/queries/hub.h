/*
 * queries/hub.h: the ids of the hub feature's store statements, joined into KITH_QUERY_LIST by
 * kith/queries.h. Their SQL is in src/store/sql/hub_sqlite.inc (and hub_pgsql.inc where
 * PostgreSQL needs its own). X(ID, "dotted.name"), as in kith/queries.h.
 */
#ifndef KITH_QUERIES_HUB_H
#define KITH_QUERIES_HUB_H

#define KITH_QUERIES_HUB(X)                                                                        \
    X(HUB_TOKEN_INSERT, "hub.token_insert")                                                        \
    X(HUB_TOKEN_FIND, "hub.token_find")                                                            \
    X(HUB_TOKENS_ERASE, "hub.tokens_erase")                                                        \
    X(HUB_TOKENS_OF, "hub.tokens_of")                                                              \
    X(HUB_TOKENS_SWEEP, "hub.tokens_sweep")                                                        \
    X(HUB_BY_EMAIL, "hub.by_email")                                                                \
    X(HUB_RECENT_LOGINS, "hub.recent_logins")                                                      \
    X(HUB_LOGIN_MAIL, "hub.login_mail")                                                            \
    X(HUB_MAIL_REDACT, "hub.mail_redact")                                                          \
    X(HUB_REFERRALS, "hub.referrals")                                                              \
    X(HUB_REWARDS, "hub.rewards")                                                                  \
    X(HUB_ORIGIN_PROGRAMS, "hub.origin_programs")

#endif
