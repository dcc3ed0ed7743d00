/*
 * queries/fulfilment.h: the ids of the fulfilment feature's store statements, joined into
 * KITH_QUERY_LIST by kith/queries.h. Their SQL is in src/store/sql/fulfilment_sqlite.inc (and
 * fulfilment_pgsql.inc where PostgreSQL needs its own). X(ID, "dotted.name"), as in kith/queries.h.
 */
#ifndef KITH_QUERIES_FULFILMENT_H
#define KITH_QUERIES_FULFILMENT_H

#define KITH_QUERIES_FULFILMENT(X)

#endif
