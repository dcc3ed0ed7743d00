/*
 * health_sql.h: SQL text the health feature's statements for SQLite (health_sqlite.inc) and for
 * PostgreSQL (health_pgsql.inc) share, so that the two cannot drift apart.
 */
#ifndef KITH_STORE_SQL_HEALTH_SQL_H
#define KITH_STORE_SQL_HEALTH_SQL_H

/* The ISO week (kith_stats_week_of) of a time in ms, as SQL: floor((t - Monday 1969-12-29) / one
 * week), written with % so that it floors in SQLite and PostgreSQL alike. */
#define KITH_HWEEK(t)                                                                              \
    "(((" t ") + 259200000 - ((((" t ") + 259200000) % 604800000) + 604800000) % 604800000)"       \
    " / 604800000)"

/* The SET list of KITH_Q_HEALTH_WEEK_ADD's upsert: every column grows by its delta. */
#define KITH_HWEEK_ADD_SET                                                                         \
    " active = health_weeks.active + excluded.active,"                                             \
    " activated = health_weeks.activated + excluded.activated,"                                    \
    " first_clicks = health_weeks.first_clicks + excluded.first_clicks,"                           \
    " cycles = health_weeks.cycles + excluded.cycles,"                                             \
    " clicks = health_weeks.clicks + excluded.clicks,"                                             \
    " sharers = health_weeks.sharers + excluded.sharers,"                                          \
    " signups = health_weeks.signups + excluded.signups,"                                          \
    " reviewed = health_weeks.reviewed + excluded.reviewed,"                                       \
    " rejected = health_weeks.rejected + excluded.rejected,"                                       \
    " qualified = health_weeks.qualified + excluded.qualified,"                                    \
    " r_customers = health_weeks.r_customers + excluded.r_customers,"                              \
    " r_purchasers = health_weeks.r_purchasers + excluded.r_purchasers,"                           \
    " r_refunded = health_weeks.r_refunded + excluded.r_refunded,"                                 \
    " r_revenue = health_weeks.r_revenue + excluded.r_revenue,"                                    \
    " o_customers = health_weeks.o_customers + excluded.o_customers,"                              \
    " o_purchasers = health_weeks.o_purchasers + excluded.o_purchasers,"                           \
    " o_refunded = health_weeks.o_refunded + excluded.o_refunded,"                                 \
    " o_revenue = health_weeks.o_revenue + excluded.o_revenue"

/* The SET list of KITH_Q_HEALTH_WEEK_ADD_JOIN's upsert (the columns a join and a signup move). */
#define KITH_HWEEK_ADD_JOIN_SET                                                                    \
    " active = health_weeks.active + excluded.active,"                                             \
    " signups = health_weeks.signups + excluded.signups,"                                          \
    " reviewed = health_weeks.reviewed + excluded.reviewed,"                                       \
    " rejected = health_weeks.rejected + excluded.rejected,"                                       \
    " r_customers = health_weeks.r_customers + excluded.r_customers,"                              \
    " o_customers = health_weeks.o_customers + excluded.o_customers"

/* The rebuild's weekly upserts (health_rebuild.c), each given its conflict target: the key of
 * health_weeks, (program, week) on SQLite, (program, week, shard) on PostgreSQL. Each runs after
 * the program's rows were deleted and KITH_Q_HEALTH_REBUILD_WEEKS_JOINED wrote one row per week,
 * so it only ever meets rows of the same rebuild and overwrites just its own columns. */
/* clang-format off */
#define KITH_HREBUILD_WEEKS_CLICKED(key)                                                           \
    "INSERT INTO health_weeks (program, week, first_clicks)"                                       \
    " SELECT program, " KITH_HWEEK("first_click_at") ", count(*) FROM health_people"               \
    " WHERE program = ?1 AND first_click_at IS NOT NULL"                                           \
    " GROUP BY program, " KITH_HWEEK("first_click_at") " ON CONFLICT (" key ")"                    \
    " DO UPDATE SET first_clicks = excluded.first_clicks"

#define KITH_HREBUILD_WEEKS_CYCLES(key)                                                            \
    "INSERT INTO health_weeks (program, week, cycles)"                                             \
    " SELECT program, " KITH_HWEEK("first_referral_at") ", count(*) FROM health_people"            \
    " WHERE program = ?1 AND first_referral_at IS NOT NULL AND side = 1"                           \
    " GROUP BY program, " KITH_HWEEK("first_referral_at") " ON CONFLICT (" key ")"                 \
    " DO UPDATE SET cycles = excluded.cycles"

#define KITH_HREBUILD_WEEKS_CLICKS(key)                                                            \
    "INSERT INTO health_weeks (program, week, clicks)"                                             \
    " SELECT program, " KITH_HWEEK("hour * 3600000") ", sum(clicks) FROM click_hours"              \
    " WHERE program = ?1 GROUP BY program, " KITH_HWEEK("hour * 3600000")                          \
    " ON CONFLICT (" key ") DO UPDATE SET clicks = excluded.clicks"

#define KITH_HREBUILD_WEEKS_SHARERS(key)                                                           \
    "INSERT INTO health_weeks (program, week, sharers)"                                            \
    " SELECT program, week, count(*) FROM sharer_weeks WHERE program = ?1"                         \
    " GROUP BY program, week ON CONFLICT (" key ") DO UPDATE SET sharers = excluded.sharers"

#define KITH_HREBUILD_WEEKS_SIGNUPS(key)                                                           \
    "INSERT INTO health_weeks (program, week, signups, reviewed, rejected)"                        \
    " SELECT r.program, " KITH_HWEEK("r.created_at") ", count(*), coalesce(sum(h.reviewed), 0),"   \
    " sum(CASE WHEN r.status = 'rejected' THEN 1 ELSE 0 END) FROM referrals r"                     \
    " LEFT JOIN health_referrals h ON h.referral = r.id WHERE r.program = ?1"                      \
    " GROUP BY r.program, " KITH_HWEEK("r.created_at") " ON CONFLICT (" key ")"                    \
    " DO UPDATE SET signups = excluded.signups, reviewed = excluded.reviewed,"                     \
    " rejected = excluded.rejected"

#define KITH_HREBUILD_WEEKS_QUALIFIED(key)                                                         \
    "INSERT INTO health_weeks (program, week, qualified)"                                          \
    " SELECT program, " KITH_HWEEK("qualified_at") ", count(*) FROM referrals"                     \
    " WHERE program = ?1 AND qualified_at IS NOT NULL AND status IN ('qualified', 'rewarded')"     \
    " GROUP BY program, " KITH_HWEEK("qualified_at") " ON CONFLICT (" key ")"                      \
    " DO UPDATE SET qualified = excluded.qualified"
/* clang-format on */

#endif
