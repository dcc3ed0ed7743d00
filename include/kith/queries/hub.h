/*
 * queries/hub.h: the ids of the hub feature's store statements, joined into KITH_QUERY_LIST by
 * kith/queries.h. Their SQL is in src/store/sql/hub_sqlite.inc (and hub_pgsql.inc where
 * PostgreSQL needs its own). X(ID, "dotted.name"), as in kith/queries.h.
 */
#ifndef KITH_QUERIES_HUB_H
#define KITH_QUERIES_HUB_H

#define KITH_QUERIES_HUB(X)

#endif
