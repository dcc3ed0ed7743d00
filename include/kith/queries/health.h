/*
 * queries/health.h: the ids of the health feature's store statements (program health and the
 * forecast, CONTRACT section 22: its rollups, their upkeep and their rebuild), joined into
 * KITH_QUERY_LIST by kith/queries.h. Their SQL is in src/store/sql/health_sqlite.inc (and
 * health_pgsql.inc where PostgreSQL needs its own). X(ID, "dotted.name"), as in kith/queries.h.
 */
#ifndef KITH_QUERIES_HEALTH_H
#define KITH_QUERIES_HEALTH_H

#define KITH_QUERIES_HEALTH(X)                                                                     \
    X(HEALTH_PERSON_GET, "health.person_get")                                                      \
    X(HEALTH_PERSON_INSERT, "health.person_insert")                                                \
    X(HEALTH_PERSON_FIRST_REFERRAL, "health.person_first_referral")                                \
    X(HEALTH_PERSON_PUT, "health.person_put")                                                      \
    X(HEALTH_WEEK_ADD, "health.week_add")                                                          \
    X(HEALTH_WEEK_ADD_JOIN, "health.week_add_join")                                                \
    X(HEALTH_COST_ADD, "health.cost_add")                                                          \
    X(HEALTH_HIST_ADD, "health.hist_add")                                                          \
    X(HEALTH_QUAL_ADD, "health.qual_add")                                                          \
    X(HEALTH_SHARER_WEEK, "health.sharer_week")                                                    \
    X(HEALTH_REFERRAL_GET, "health.referral_get")                                                  \
    X(HEALTH_REFERRAL_REVIEWED, "health.referral_reviewed")                                        \
    X(HEALTH_REFUND_GROUP_MAX, "health.refund_group_max")                                          \
    X(HEALTH_WEEKS_RANGE, "health.weeks_range")                                                    \
    X(HEALTH_WEEKS_ACTIVE_BEFORE, "health.weeks_active_before")                                    \
    X(HEALTH_WEEKS_SPAN, "health.weeks_span")                                                      \
    X(HEALTH_COSTS_RANGE, "health.costs_range")                                                    \
    X(HEALTH_HIST_RANGE, "health.hist_range")                                                      \
    X(HEALTH_QUAL_ALL, "health.qual_all")                                                          \
    X(HEALTH_EDGE_JOINED, "health.edge_joined")                                                    \
    X(HEALTH_EDGE_SHARE_BUCKETS, "health.edge_share_buckets")                                      \
    X(HEALTH_EDGE_CYCLE_BUCKETS, "health.edge_cycle_buckets")                                      \
    X(HEALTH_SHARE_VALUES, "health.share_values")                                                  \
    X(HEALTH_CYCLE_VALUES, "health.cycle_values")                                                  \
    X(HEALTH_EDGE_REFERRALS, "health.edge_referrals")                                              \
    X(HEALTH_EDGE_QUALIFIED, "health.edge_qualified")                                              \
    X(HEALTH_FATIGUE_ASKS, "health.fatigue_asks")                                                  \
    X(HEALTH_FATIGUE_OPT_OUTS, "health.fatigue_opt_outs")                                          \
    X(HEALTH_REBUILD_BUCKETS_COUNT, "health.rebuild_buckets_count")                                \
    X(HEALTH_REBUILD_BUCKET_PUT, "health.rebuild_bucket_put")                                      \
    X(HEALTH_REBUILD_CLEAR_PEOPLE, "health.rebuild_clear_people")                                  \
    X(HEALTH_REBUILD_CLEAR_WEEKS, "health.rebuild_clear_weeks")                                    \
    X(HEALTH_REBUILD_CLEAR_COSTS, "health.rebuild_clear_costs")                                    \
    X(HEALTH_REBUILD_CLEAR_HIST, "health.rebuild_clear_hist")                                      \
    X(HEALTH_REBUILD_CLEAR_QUAL, "health.rebuild_clear_qual")                                      \
    X(HEALTH_REBUILD_CLEAR_SHARERS, "health.rebuild_clear_sharers")                                \
    X(HEALTH_REBUILD_PEOPLE, "health.rebuild_people")                                              \
    X(HEALTH_REBUILD_PEOPLE_CLICKS, "health.rebuild_people_clicks")                                \
    X(HEALTH_REBUILD_PEOPLE_REFERRALS, "health.rebuild_people_referrals")                          \
    X(HEALTH_REBUILD_PEOPLE_EVENTS, "health.rebuild_people_events")                                \
    X(HEALTH_REBUILD_PEOPLE_BUCKETS, "health.rebuild_people_buckets")                              \
    X(HEALTH_REBUILD_REFERRALS, "health.rebuild_referrals")                                        \
    X(HEALTH_REBUILD_SHARERS, "health.rebuild_sharers")                                            \
    X(HEALTH_REBUILD_WEEKS_JOINED, "health.rebuild_weeks_joined")                                  \
    X(HEALTH_REBUILD_WEEKS_CLICKED, "health.rebuild_weeks_clicked")                                \
    X(HEALTH_REBUILD_WEEKS_CYCLES, "health.rebuild_weeks_cycles")                                  \
    X(HEALTH_REBUILD_WEEKS_CLICKS, "health.rebuild_weeks_clicks")                                  \
    X(HEALTH_REBUILD_WEEKS_SHARERS, "health.rebuild_weeks_sharers")                                \
    X(HEALTH_REBUILD_WEEKS_SIGNUPS, "health.rebuild_weeks_signups")                                \
    X(HEALTH_REBUILD_WEEKS_QUALIFIED, "health.rebuild_weeks_qualified")                            \
    X(HEALTH_REBUILD_COSTS, "health.rebuild_costs")                                                \
    X(HEALTH_REBUILD_HIST_SHARE, "health.rebuild_hist_share")                                      \
    X(HEALTH_REBUILD_HIST_CYCLE, "health.rebuild_hist_cycle")                                      \
    X(HEALTH_REBUILD_QUAL, "health.rebuild_qual")                                                  \
    X(HEALTH_PROGRAM_IDS, "health.program_ids")

#endif
