/*
 * queries/asks.h: the ids of the asks feature's store statements, joined into KITH_QUERY_LIST by
 * kith/queries.h. Their SQL is in src/store/sql/asks_sqlite.inc (and asks_pgsql.inc where
 * PostgreSQL needs its own). X(ID, "dotted.name"), as in kith/queries.h.
 */
#ifndef KITH_QUERIES_ASKS_H
#define KITH_QUERIES_ASKS_H

#define KITH_QUERIES_ASKS(X)

#endif
