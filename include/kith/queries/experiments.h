/*
 * queries/experiments.h: the ids of the experiments feature's store statements, joined into
 * KITH_QUERY_LIST by kith/queries.h. Their SQL is in src/store/sql/experiments_sqlite.inc (and
 * experiments_pgsql.inc where PostgreSQL needs its own). X(ID, "dotted.name"), as in
 * kith/queries.h.
 */
#ifndef KITH_QUERIES_EXPERIMENTS_H
#define KITH_QUERIES_EXPERIMENTS_H

#define KITH_QUERIES_EXPERIMENTS(X)

#endif
