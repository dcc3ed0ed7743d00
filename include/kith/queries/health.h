/*
 * queries/health.h: the ids of the health feature's store statements, joined into KITH_QUERY_LIST
 * by kith/queries.h. Their SQL is in src/store/sql/health_sqlite.inc (and health_pgsql.inc where
 * PostgreSQL needs its own). X(ID, "dotted.name"), as in kith/queries.h.
 */
#ifndef KITH_QUERIES_HEALTH_H
#define KITH_QUERIES_HEALTH_H

#define KITH_QUERIES_HEALTH(X)

#endif
