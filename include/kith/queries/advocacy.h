/*
 * queries/advocacy.h: the ids of the advocacy feature's store statements, joined into
 * KITH_QUERY_LIST by kith/queries.h. Their SQL is in src/store/sql/advocacy_sqlite.inc (and
 * advocacy_pgsql.inc where PostgreSQL needs its own). X(ID, "dotted.name"), as in kith/queries.h.
 */
#ifndef KITH_QUERIES_ADVOCACY_H
#define KITH_QUERIES_ADVOCACY_H

/* clang-format off */
#define KITH_QUERIES_ADVOCACY(X)                                                                   \
    X(ADV_ENTRY_ADD, "advocacy.entry_add")                                                         \
    X(ADV_ENTRY_DROP, "advocacy.entry_drop")                                                       \
    X(ADV_ENTRIES_DUE, "advocacy.entries_due")                                                     \
    X(ADV_LEVEL_BUMP, "advocacy.level_bump")                                                       \
    X(ADV_LEVELS_OF, "advocacy.levels_of")                                                         \
    X(ADV_LEVELS_GRACE_DUE, "advocacy.levels_grace_due")                                           \
    X(ADV_REACHED_OF, "advocacy.reached_of")                                                       \
    X(ADV_REACHED_ADD, "advocacy.reached_add")                                                     \
    X(ADV_REACHED_UNNOTIFIED, "advocacy.reached_unnotified")                                       \
    X(ADV_REACHED_NOTIFIED, "advocacy.reached_notified")                                           \
    X(ADV_ROLES_OF, "advocacy.roles_of")                                                           \
    X(ADV_ROLE_GET, "advocacy.role_get")                                                           \
    X(ADV_ROLE_ADD, "advocacy.role_add")                                                           \
    X(ADV_ROLE_SET_SOURCE, "advocacy.role_set_source")                                             \
    X(ADV_ROLE_DELETE, "advocacy.role_delete")                                                     \
    X(ACT_BY_BUSINESS_ID, "activities.by_business_id")                                             \
    X(ACT_LIST, "activities.list")                                                                 \
    X(ADV_EXPORT_ACTIVITIES, "advocacy.export_activities")                                         \
    X(ADV_EXPORT_LEVELS, "advocacy.export_levels")                                                 \
    X(ADV_EXPORT_REACHED, "advocacy.export_reached")                                               \
    X(ADV_EXPORT_ENTRIES, "advocacy.export_entries")                                               \
    X(ADV_ERASE_ACTIVITIES, "advocacy.erase_activities")
/* clang-format on */

#endif
