/*
 * queries/admin.h: the ids of the admin feature's store statements, joined into KITH_QUERY_LIST by
 * kith/queries.h. Their SQL is in src/store/sql/admin_sqlite.inc (and admin_pgsql.inc where
 * PostgreSQL needs its own). X(ID, "dotted.name"), as in kith/queries.h.
 */
#ifndef KITH_QUERIES_ADMIN_H
#define KITH_QUERIES_ADMIN_H

#define KITH_QUERIES_ADMIN(X)

#endif
