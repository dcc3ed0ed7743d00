/*
 * queries/operations.h: the ids of the operations feature's store statements, joined into
 * KITH_QUERY_LIST by kith/queries.h. Their SQL is in src/store/sql/operations_sqlite.inc (and
 * operations_pgsql.inc where PostgreSQL needs its own). X(ID, "dotted.name"), as in kith/queries.h.
 */
#ifndef KITH_QUERIES_OPERATIONS_H
#define KITH_QUERIES_OPERATIONS_H

#define KITH_QUERIES_OPERATIONS(X)                                                                 \
    X(CSV_PARTICIPANTS, "csv.participants")                                                        \
    X(CSV_CODES, "csv.codes")                                                                      \
    X(CSV_REFERRALS, "csv.referrals")                                                              \
    X(CSV_REWARDS, "csv.rewards")

#endif
