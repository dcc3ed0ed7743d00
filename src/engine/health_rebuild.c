/*
 * health_rebuild.c: the health rollups computed afresh from the raw tables (participants,
 * clicks, click_hours, referrals, rewards, events), program by program, in one transaction. It
 * runs once per database, at the first start of a kith that has them (meta key health_rollups
 * absent: a database that predates them, or one a bulk load filled behind kith's back, as
 * bench/health.sh does), and it is the definition the upkeep in health_rollups.c must agree
 * with: the black-box tests rebuild and compare. It is not for everyday use: at a million
 * participants and ten million clicks it takes a few minutes.
 */
#include <string.h>

#include "engine/health.h"
#include "kith/clock.h"
#include "kith/log.h"
#include "kith/stats.h"

/* Every bucket that some duration falls in, with its lower bound, for the SQL rebuild. */
static enum kith_status fill_buckets(struct kith_tx *tx)
{
    json_t *row = NULL, *args = json_array();
    enum kith_status st = kith_store_query_one(tx, KITH_Q_HEALTH_REBUILD_BUCKETS_COUNT, args, &row);
    json_decref(args);
    int64_t have = st == KITH_OK ? kith_eng_row_int(row, "n") : 0;
    json_decref(row);
    if (st != KITH_OK || have > 0)
        return st;
    for (int32_t b = 0; b < 1024 && st == KITH_OK; b++) {
        int64_t low = kith_stats_bucket_low(b);
        if (low < 0 || kith_stats_bucket(low) != b)
            continue;
        args = json_pack("[Ii]", (json_int_t)low, (int)b);
        st = kith_store_exec(tx, KITH_Q_HEALTH_REBUILD_BUCKET_PUT, args, NULL);
        json_decref(args);
    }
    return st;
}

static enum kith_status rebuild_program(struct kith_tx *tx, const struct prog *p)
{
    /* In this order: people first (the weekly counts of people are sums over them), the
     * referrals' review marks before the signups that count them, sharers before their
     * weekly counts. */
    static const enum kith_query steps[] = {
        KITH_Q_HEALTH_REBUILD_CLEAR_PEOPLE,
        KITH_Q_HEALTH_REBUILD_CLEAR_WEEKS,
        KITH_Q_HEALTH_REBUILD_CLEAR_COSTS,
        KITH_Q_HEALTH_REBUILD_CLEAR_HIST,
        KITH_Q_HEALTH_REBUILD_CLEAR_QUAL,
        KITH_Q_HEALTH_REBUILD_CLEAR_SHARERS,
        KITH_Q_HEALTH_REBUILD_PEOPLE,
        KITH_Q_HEALTH_REBUILD_PEOPLE_CLICKS,
        KITH_Q_HEALTH_REBUILD_PEOPLE_REFERRALS,
        KITH_Q_HEALTH_REBUILD_PEOPLE_EVENTS,
        KITH_Q_HEALTH_REBUILD_PEOPLE_BUCKETS,
        KITH_Q_HEALTH_REBUILD_REFERRALS,
        KITH_Q_HEALTH_REBUILD_SHARERS,
        KITH_Q_HEALTH_REBUILD_WEEKS_JOINED,
        KITH_Q_HEALTH_REBUILD_WEEKS_CLICKED,
        KITH_Q_HEALTH_REBUILD_WEEKS_CYCLES,
        KITH_Q_HEALTH_REBUILD_WEEKS_CLICKS,
        KITH_Q_HEALTH_REBUILD_WEEKS_SHARERS,
        KITH_Q_HEALTH_REBUILD_WEEKS_SIGNUPS,
        KITH_Q_HEALTH_REBUILD_WEEKS_QUALIFIED,
        KITH_Q_HEALTH_REBUILD_COSTS,
        KITH_Q_HEALTH_REBUILD_HIST_SHARE,
        KITH_Q_HEALTH_REBUILD_HIST_CYCLE,
        KITH_Q_HEALTH_REBUILD_QUAL,
    };
    enum kith_status st = KITH_OK;
    for (size_t i = 0; st == KITH_OK && i < KITH_ARRAY_LEN(steps); i++) {
        /* Every statement names ?1, the program; the events' one ?2 as well, its currency
         * (PostgreSQL refuses a parameter a statement does not use). */
        json_t *args = steps[i] == KITH_Q_HEALTH_REBUILD_PEOPLE_EVENTS
                           ? json_pack("[ss]", p->id, p->currency)
                           : json_pack("[s]", p->id);
        uint64_t t0 = kith_clock_mono_ns();
        st = kith_store_exec(tx, steps[i], args, NULL);
        json_decref(args);
        if (st != KITH_OK)
            kith_log_error("health", "msg=\"rebuild step failed\" step=%s program=%s",
                           kith_query_name(steps[i]), p->id);
        else
            kith_log_debug("health", "msg=\"rebuild step\" step=%s program=%s ms=%llu",
                           kith_query_name(steps[i]), p->id,
                           (unsigned long long)((kith_clock_mono_ns() - t0) / 1000000));
    }
    return st;
}

enum kith_status kith_eng_health_rebuild(struct kith_tx *tx)
{
    json_t *rows = NULL, *args = json_pack("[s]", "health_rollups");
    enum kith_status st = kith_store_query_one(tx, KITH_Q_META_GET, args, &rows);
    json_decref(args);
    json_decref(rows);
    rows = NULL;
    if (st != KITH_E_NOT_FOUND)
        return st; /* built already (KITH_OK), or the database failed */
    /* Claimed first: an instance starting beside this one waits on the row, then finds it. */
    args = json_pack("[ss]", "health_rollups", "1");
    st = kith_store_exec(tx, KITH_Q_META_PUT, args, NULL);
    json_decref(args);
    if (st == KITH_E_CONSTRAINT)
        return KITH_OK;
    if (st != KITH_OK || (st = fill_buckets(tx)) != KITH_OK)
        return st;
    uint64_t t0 = kith_clock_mono_ns();
    args = json_array();
    st = kith_store_query(tx, KITH_Q_HEALTH_PROGRAM_IDS, args, &rows);
    json_decref(args);
    if (st != KITH_OK)
        return st;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        struct prog p;
        if ((st = kith_eng_prog_load(tx, kith_eng_row_str(r, "id"), &p, NULL)) != KITH_OK ||
            (st = rebuild_program(tx, &p)) != KITH_OK)
            break;
    }
    if (st == KITH_OK && json_array_size(rows) > 0)
        kith_log_info("health", "msg=\"health rollups rebuilt\" programs=%zu ms=%llu",
                      json_array_size(rows),
                      (unsigned long long)((kith_clock_mono_ns() - t0) / 1000000));
    json_decref(rows);
    return st;
}

enum kith_status kith_engine_health_prepare(struct kith_tx *tx)
{
    return kith_eng_health_rebuild(tx);
}
