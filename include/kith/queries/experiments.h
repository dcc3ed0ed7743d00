/*
 * queries/experiments.h: the ids of the experiments feature's store statements (CONTRACT
 * section 23: experiments, their members and their per-variant results), joined into
 * KITH_QUERY_LIST by kith/queries.h. Their SQL is in src/store/sql/experiments_sqlite.inc (and
 * experiments_pgsql.inc where PostgreSQL needs its own). X(ID, "dotted.name"), as in
 * kith/queries.h.
 */
#ifndef KITH_QUERIES_EXPERIMENTS_H
#define KITH_QUERIES_EXPERIMENTS_H

#define KITH_QUERIES_EXPERIMENTS(X)                                                                \
    X(EXP_RUNNING_OF, "experiments.running_of")                                                    \
    X(EXP_LIST, "experiments.list")                                                                \
    X(EXP_RUNNING_ALL, "experiments.running_all")                                                  \
    X(EXP_MEMBER_UPSERT, "experiments.member_upsert")                                              \
    X(EXP_MEMBER_COUNTS, "experiments.member_counts")                                              \
    X(EXP_REFERRAL_COUNTS, "experiments.referral_counts")                                          \
    X(EXP_COSTS, "experiments.costs")                                                              \
    X(EXP_OF_PARTICIPANT, "experiments.of_participant")

#endif
