/*
 * queries/asks.h: the ids of the asks feature's store statements (moments, asks and
 * preferences, section 17; spotlights, digests and the public program page, section 18), joined
 * into KITH_QUERY_LIST by kith/queries.h. Their SQL is in src/store/sql/asks_sqlite.inc (and
 * asks_pgsql.inc where PostgreSQL needs its own). X(ID, "dotted.name"), as in kith/queries.h.
 */
#ifndef KITH_QUERIES_ASKS_H
#define KITH_QUERIES_ASKS_H

#define KITH_QUERIES_ASKS(X)                                                                       \
    X(ASKS_MOMENT_BY_PROVIDER, "asks.moment_by_provider")                                          \
    X(ASKS_RECENT, "asks.recent")                                                                  \
    X(ASKS_IN_WINDOW, "asks.in_window")                                                            \
    X(ASKS_LAST_CLICK, "asks.last_click")                                                          \
    X(ASKS_FIRST_CLICK, "asks.first_click")                                                        \
    X(ASKS_ANSWER_CLICKS, "asks.answer_clicks")                                                    \
    X(ASKS_LIST, "asks.list")                                                                      \
    X(ASKS_EXPORT_MOMENTS, "asks.export_moments")                                                  \
    X(ASKS_EXPORT_ASKS, "asks.export_asks")                                                        \
    X(ASKS_EXPORT_PREFERENCES, "asks.export_preferences")                                          \
    X(ASKS_EXPORT_WINS, "asks.export_wins")                                                        \
    X(ASKS_EXPORT_CANDIDACIES, "asks.export_candidacies")                                          \
    X(ASKS_EXPORT_DIGESTS, "asks.export_digests")                                                  \
    X(ASKS_ERASE_NOTES, "asks.erase_notes")                                                        \
    X(SPOTLIGHTS_BY_PERIOD, "spotlights.by_period")                                                \
    X(SPOTLIGHTS_LIST, "spotlights.list")                                                          \
    X(SPOTLIGHTS_WINNERS, "spotlights.winners")                                                    \
    X(SPOTLIGHTS_ROTATED, "spotlights.rotated")                                                    \
    X(SPOTLIGHTS_MOST_QUALIFIED, "spotlights.most_qualified")                                      \
    X(SPOTLIGHTS_RISING, "spotlights.rising")                                                      \
    X(SPOTLIGHTS_STORYTELLER, "spotlights.storyteller")                                            \
    X(SPOTLIGHTS_HAVE_ACTIVITIES, "spotlights.have_activities")                                    \
    X(SPOTLIGHTS_LATEST, "spotlights.latest")                                                      \
    X(RITUALS_RUN_CLAIM, "rituals.run_claim")                                                      \
    X(RITUALS_RUN_GET, "rituals.run_get")                                                          \
    X(RITUALS_RUN_DONE, "rituals.run_done")                                                        \
    X(DIGESTS_DUE, "digests.due")                                                                  \
    X(DIGESTS_CLAIM, "digests.claim")                                                              \
    X(DIGESTS_NOTED, "digests.noted")                                                              \
    X(DIGESTS_FACTS, "digests.facts")                                                              \
    X(PUBLIC_TOTALS, "public.totals")                                                              \
    X(PUBLIC_REWARDS_BY_KIND, "public.rewards_by_kind")

#endif
