/*
 * queries/advocacy.h: the ids of the advocacy feature's store statements, joined into
 * KITH_QUERY_LIST by kith/queries.h. Their SQL is in src/store/sql/advocacy_sqlite.inc (and
 * advocacy_pgsql.inc where PostgreSQL needs its own). X(ID, "dotted.name"), as in kith/queries.h.
 */
#ifndef KITH_QUERIES_ADVOCACY_H
#define KITH_QUERIES_ADVOCACY_H

#define KITH_QUERIES_ADVOCACY(X)

#endif
