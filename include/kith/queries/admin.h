/*
 * queries/admin.h: the ids of the admin feature's store statements, joined into KITH_QUERY_LIST by
 * kith/queries.h. Their SQL is in src/store/sql/admin_sqlite.inc (and admin_pgsql.inc where
 * PostgreSQL needs its own). X(ID, "dotted.name"), as in kith/queries.h.
 */
#ifndef KITH_QUERIES_ADMIN_H
#define KITH_QUERIES_ADMIN_H

#define KITH_QUERIES_ADMIN(X)                                                                      \
    X(ADMIN_INSERT, "admin.insert")                                                                \
    X(ADMIN_BY_EMAIL, "admin.by_email")                                                            \
    X(ADMIN_LIST, "admin.list")                                                                    \
    X(ADMIN_DELETE, "admin.delete")                                                                \
    X(ADMIN_SESSIONS_OF_DELETE, "admin.sessions_of_delete")                                        \
    X(ADMIN_FAILURES_COUNT, "admin.failures_count")                                                \
    X(ADMIN_FAILURE_INSERT, "admin.failure_insert")                                                \
    X(ADMIN_FAILURES_SWEEP, "admin.failures_sweep")                                                \
    X(ADMIN_SESSION_INSERT, "admin.session_insert")                                                \
    X(ADMIN_SESSION_FIND, "admin.session_find")                                                    \
    X(ADMIN_SESSION_TOUCH, "admin.session_touch")                                                  \
    X(ADMIN_SESSION_DELETE, "admin.session_delete")                                                \
    X(ADMIN_KEY_TOUCH, "admin.key_touch")                                                          \
    X(ADMIN_KEYS_LIST, "admin.keys_list")                                                          \
    X(ADMIN_KEY_NAME, "admin.key_name")                                                            \
    X(ADMIN_KEY_DELETE, "admin.key_delete")

#endif
