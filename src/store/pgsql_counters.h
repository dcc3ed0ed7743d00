/*
 * pgsql_counters.h: PostgreSQL's running counters, split into shards. Every signup bumps its
 * program's participant count and its code prefix's count; as one row each, those rows would
 * make every signup of a program wait for the one before it to commit, on every connection and
 * instance. Each row is split by the connection's server process (pg_backend_pid() % 1024, so
 * two live connections rarely share a shard, and a program never has more than 1024 rows), a
 * bump touches its own connection's shard, and a read adds the shards up: still exact, since
 * every bump commits or rolls back with its transaction. Migration 10 of pgsql_schema.h adds the
 * shard column. These statements take precedence over queries.h's for the same names.
 */
#ifndef KITH_STORE_PGSQL_COUNTERS_H
#define KITH_STORE_PGSQL_COUNTERS_H

#include "store/queries.h"

static const char *const kith_pgsql_counter_sql[KITH_Q_COUNT] = {
    [KITH_Q_PREFIX_TAKEN] = "SELECT sum(taken) AS taken FROM code_prefixes WHERE prefix = $1"
                            " GROUP BY prefix",
    [KITH_Q_PREFIX_BUMP] = "INSERT INTO code_prefixes (prefix, shard, taken)"
                           " VALUES ($1, pg_backend_pid() % 1024, 1) ON CONFLICT (prefix, shard)"
                           " DO UPDATE SET taken = code_prefixes.taken + 1",
    [KITH_Q_COUNTS_ADD] = "INSERT INTO program_counts (program, shard, participants_active,"
                          " sharers) VALUES ($1, pg_backend_pid() % 1024, $2, $3)"
                          " ON CONFLICT (program, shard) DO UPDATE SET"
                          " participants_active = program_counts.participants_active"
                          " + excluded.participants_active,"
                          " sharers = program_counts.sharers + excluded.sharers",
    [KITH_Q_COUNTS_GET] = "SELECT sum(participants_active) AS participants_active,"
                          " sum(sharers) AS sharers FROM program_counts WHERE program = $1"
                          " GROUP BY program",
    [KITH_Q_PUBLIC_TOTALS] =
        "SELECT (SELECT coalesce(sum(participants_active), 0) FROM program_counts"
        "   WHERE program = $1) AS participants,"
        " (SELECT count(*) FROM referrals WHERE program = $1"
        "   AND status IN ('qualified', 'rewarded')) AS qualified",
};

#endif
