/*
 * queries/resources.h: the ids of the resources feature's store statements, joined into
 * KITH_QUERY_LIST by kith/queries.h. Their SQL is in src/store/sql/resources_sqlite.inc (and
 * resources_pgsql.inc where PostgreSQL needs its own). X(ID, "dotted.name"), as in kith/queries.h.
 */
#ifndef KITH_QUERIES_RESOURCES_H
#define KITH_QUERIES_RESOURCES_H

#define KITH_QUERIES_RESOURCES(X)

#endif
