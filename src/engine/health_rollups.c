/*
 * health_rollups.c: the upkeep of the rollups behind GET /v1/metrics/health and the forecast
 * (CONTRACT section 22), in the transactions that change what they count, so that reading any
 * figure costs a few indexed queries however large the program (docs/internals/stats.md).
 *
 * Each participant has one health_people row of facts (joined, side, active, first counted
 * click, first own referral, purchases, refunds, revenue, qualified referrals made). What a
 * person adds to the weekly rollups is a function of that row (contribute()); a change to the
 * row applies the difference between what it added before and what it adds after, so every
 * order of arrival (late clicks, backdated signups, refunds before purchases) ends with the
 * rollups a rebuild from the raw tables would give (health_rebuild.c; the black-box tests
 * compare the two). Counts of things rather than people (clicks, sharers per week, signups,
 * qualified referrals, the rewards' cost) move with their own events.
 *
 * It is not for reading figures (health.c) nor for deciding anything: it only counts.
 */
#include <string.h>

#include "engine/health.h"
#include "kith/stats.h"

#define ACTIVATION_MS (30 * KITH_MS_PER_DAY)

/* The columns of health_weeks, in KITH_Q_HEALTH_WEEK_ADD's order. */
enum col {
    C_ACTIVE,
    C_ACTIVATED,
    C_FIRST_CLICKS,
    C_CYCLES,
    C_CLICKS,
    C_SHARERS,
    C_SIGNUPS,
    C_REVIEWED,
    C_REJECTED,
    C_QUALIFIED,
    C_R_CUSTOMERS,
    C_R_PURCHASERS,
    C_R_REFUNDED,
    C_R_REVENUE,
    C_O_CUSTOMERS,
    C_O_PURCHASERS,
    C_O_REFUNDED,
    C_O_REVENUE,
    C_COUNT
};

/* Deltas gathered before they are written: a few weeks, histogram cells and counts. */
struct deltas {
    struct {
        int64_t week;
        int64_t v[C_COUNT];
    } w[8];
    size_t nw;
    struct {
        const char *kind;
        int64_t week;
        int32_t bucket;
        int64_t n;
    } h[8];
    size_t nh;
    struct {
        int64_t k;
        int64_t n;
    } q[4];
    size_t nq;
};

static void add_week(struct deltas *d, int64_t week, enum col c, int64_t v)
{
    if (v == 0)
        return;
    size_t i = 0;
    while (i < d->nw && d->w[i].week != week)
        i++;
    if (i == d->nw) {
        if (d->nw == KITH_ARRAY_LEN(d->w))
            return; /* never: a change touches at most three weeks per side */
        memset(&d->w[i], 0, sizeof(d->w[i]));
        d->w[i].week = week;
        d->nw++;
    }
    d->w[i].v[c] += v;
}

static void add_hist(struct deltas *d, const char *kind, int64_t week, int32_t bucket, int64_t n)
{
    size_t i = 0;
    while (i < d->nh &&
           !(d->h[i].week == week && d->h[i].bucket == bucket && strcmp(d->h[i].kind, kind) == 0))
        i++;
    if (i == d->nh) {
        if (d->nh == KITH_ARRAY_LEN(d->h))
            return;
        d->h[i].kind = kind;
        d->h[i].week = week;
        d->h[i].bucket = bucket;
        d->h[i].n = 0;
        d->nh++;
    }
    d->h[i].n += n;
}

static void add_qual(struct deltas *d, int64_t k, int64_t n)
{
    size_t i = 0;
    while (i < d->nq && d->q[i].k != k)
        i++;
    if (i == d->nq) {
        if (d->nq == KITH_ARRAY_LEN(d->q))
            return;
        d->q[i].k = k;
        d->q[i].n = 0;
        d->nq++;
    }
    d->q[i].n += n;
}

static enum kith_status flush(struct kith_tx *tx, const char *program, const struct deltas *d)
{
    enum kith_status st = KITH_OK;
    /* The columns a join and a signup change, in KITH_Q_HEALTH_WEEK_ADD_JOIN's order: the
     * narrow statement of every signup. */
    static const enum col join_cols[] = {C_ACTIVE,   C_SIGNUPS,     C_REVIEWED,
                                         C_REJECTED, C_R_CUSTOMERS, C_O_CUSTOMERS};
    for (size_t i = 0; st == KITH_OK && i < d->nw; i++) {
        bool any = false, narrow = true;
        for (int c = 0; c < C_COUNT; c++) {
            bool in_join = false;
            for (size_t k = 0; k < KITH_ARRAY_LEN(join_cols); k++)
                in_join = in_join || join_cols[k] == (enum col)c;
            any = any || d->w[i].v[c] != 0;
            narrow = narrow && (in_join || d->w[i].v[c] == 0);
        }
        if (!any)
            continue;
        json_t *args = json_pack("[sI]", program, (json_int_t)d->w[i].week);
        if (narrow) {
            for (size_t k = 0; k < KITH_ARRAY_LEN(join_cols); k++)
                json_array_append_new(args, json_integer(d->w[i].v[join_cols[k]]));
        } else {
            for (int c = 0; c < C_COUNT; c++)
                json_array_append_new(args, json_integer(d->w[i].v[c]));
        }
        st = kith_store_exec(tx, narrow ? KITH_Q_HEALTH_WEEK_ADD_JOIN : KITH_Q_HEALTH_WEEK_ADD,
                             args, NULL);
        json_decref(args);
    }
    for (size_t i = 0; st == KITH_OK && i < d->nh; i++) {
        if (d->h[i].n == 0)
            continue;
        json_t *args = json_pack("[ssIiI]", program, d->h[i].kind, (json_int_t)d->h[i].week,
                                 (int)d->h[i].bucket, (json_int_t)d->h[i].n);
        st = kith_store_exec(tx, KITH_Q_HEALTH_HIST_ADD, args, NULL);
        json_decref(args);
    }
    for (size_t i = 0; st == KITH_OK && i < d->nq; i++) {
        if (d->q[i].n == 0)
            continue;
        json_t *args = json_pack("[sII]", program, (json_int_t)d->q[i].k, (json_int_t)d->q[i].n);
        st = kith_store_exec(tx, KITH_Q_HEALTH_QUAL_ADD, args, NULL);
        json_decref(args);
    }
    return st;
}

/* ---- a person's facts ---- */

struct person {
    char id[KITH_ID_MAX];
    char program[48];
    int64_t joined_at;
    int side; /* 1: referred (a referral that is not rejected) */
    int active;
    bool clicked;
    int64_t first_click_at;
    bool has_last_week;
    int64_t last_week;
    bool referred_someone;
    int64_t first_referral_at;
    int64_t purchases, refunds, revenue, qualified;
};

static void person_from_row(json_t *row, struct person *p)
{
    memset(p, 0, sizeof(*p));
    kith_strlcpy(p->id, kith_eng_row_str(row, "participant"), sizeof(p->id));
    kith_strlcpy(p->program, kith_eng_row_str(row, "program"), sizeof(p->program));
    p->joined_at = kith_eng_row_int(row, "joined_at");
    p->side = (int)kith_eng_row_int(row, "side");
    p->active = (int)kith_eng_row_int(row, "active");
    p->clicked = !kith_eng_row_is_null(row, "first_click_at");
    p->first_click_at = kith_eng_row_int(row, "first_click_at");
    p->has_last_week = !kith_eng_row_is_null(row, "last_week");
    p->last_week = kith_eng_row_int(row, "last_week");
    p->referred_someone = !kith_eng_row_is_null(row, "first_referral_at");
    p->first_referral_at = kith_eng_row_int(row, "first_referral_at");
    p->purchases = kith_eng_row_int(row, "purchases");
    p->refunds = kith_eng_row_int(row, "refunds");
    p->revenue = kith_eng_row_int(row, "revenue");
    p->qualified = kith_eng_row_int(row, "qualified");
}

/* What a person adds to the rollups, times sign (+1 or -1). */
static void contribute(const struct person *p, int sign, struct deltas *d)
{
    int64_t jw = kith_stats_week_of(p->joined_at);
    bool purchaser = p->purchases > 0, refunded = purchaser && p->refunds > 0;
    add_week(d, jw, C_ACTIVE, sign * p->active);
    add_week(d, jw, C_ACTIVATED,
             sign * (p->clicked && p->first_click_at - p->joined_at < ACTIVATION_MS));
    add_week(d, jw, p->side ? C_R_CUSTOMERS : C_O_CUSTOMERS, sign);
    add_week(d, jw, p->side ? C_R_PURCHASERS : C_O_PURCHASERS, sign * purchaser);
    add_week(d, jw, p->side ? C_R_REFUNDED : C_O_REFUNDED, sign * refunded);
    add_week(d, jw, p->side ? C_R_REVENUE : C_O_REVENUE, sign * p->revenue);
    if (p->clicked) {
        int64_t w = kith_stats_week_of(p->first_click_at);
        add_week(d, w, C_FIRST_CLICKS, sign);
        add_hist(d, "share", w, kith_stats_bucket(p->first_click_at - p->joined_at), sign);
    }
    if (p->side && p->referred_someone) {
        int64_t w = kith_stats_week_of(p->first_referral_at);
        add_week(d, w, C_CYCLES, sign);
        add_hist(d, "cycle", w, kith_stats_bucket(p->first_referral_at - p->joined_at), sign);
    }
    if (p->qualified > 0)
        add_qual(d, p->qualified, sign);
}

static json_t *opt_int(bool has, int64_t v)
{
    return has ? json_integer(v) : json_null();
}

static enum kith_status person_put(struct kith_tx *tx, const struct person *p)
{
    json_t *args = json_pack(
        "[siioooooIIII]", p->id, p->side, p->active, opt_int(p->clicked, p->first_click_at),
        opt_int(p->clicked, kith_stats_bucket(p->first_click_at - p->joined_at)),
        opt_int(p->has_last_week, p->last_week), opt_int(p->referred_someone, p->first_referral_at),
        opt_int(p->referred_someone, kith_stats_bucket(p->first_referral_at - p->joined_at)),
        (json_int_t)p->purchases, (json_int_t)p->refunds, (json_int_t)p->revenue,
        (json_int_t)p->qualified);
    enum kith_status st = kith_store_exec(tx, KITH_Q_HEALTH_PERSON_PUT, args, NULL);
    json_decref(args);
    return st;
}

/* Writes after in place of before, and what changed into the rollups. */
static enum kith_status person_change(struct kith_tx *tx, const struct person *before,
                                      const struct person *after)
{
    struct deltas d;
    d.nw = d.nh = d.nq = 0;
    contribute(before, -1, &d);
    contribute(after, +1, &d);
    enum kith_status st = person_put(tx, after);
    return st == KITH_OK ? flush(tx, after->program, &d) : st;
}

static enum kith_status person_insert(struct kith_tx *tx, const struct person *p)
{
    json_t *args =
        json_pack("[ssIii]", p->id, p->program, (json_int_t)p->joined_at, p->side, p->active);
    enum kith_status st = kith_store_exec(tx, KITH_Q_HEALTH_PERSON_INSERT, args, NULL);
    json_decref(args);
    return st;
}

/*
 * A person's row. People get one at their first change, not when they join (a signup writes
 * no row of its own): until then they are what they were at birth, read from participants
 * (referred when their referral is not rejected, active unless blocked or erased), which is
 * what their joining added to the weekly counts. KITH_E_NOT_FOUND for no such participant.
 */
static enum kith_status person_get(struct kith_tx *tx, const char *participant, struct person *p)
{
    json_t *row = NULL, *args = json_pack("[s]", participant);
    enum kith_status st = kith_store_query_one(tx, KITH_Q_HEALTH_PERSON_GET, args, &row);
    json_decref(args);
    if (st == KITH_OK)
        person_from_row(row, p);
    json_decref(row);
    if (st != KITH_E_NOT_FOUND)
        return st;
    json_t *person = NULL, *referral = NULL;
    if ((st = kith_store_get(tx, "participants", participant, &person)) != KITH_OK)
        return st;
    memset(p, 0, sizeof(*p));
    kith_strlcpy(p->id, participant, sizeof(p->id));
    kith_strlcpy(p->program, kith_eng_row_str(person, "program"), sizeof(p->program));
    p->joined_at = kith_eng_row_int(person, "created_at");
    p->active = strcmp(kith_eng_row_str(person, "status"), "active") == 0 &&
                kith_eng_row_int(person, "erased") == 0;
    const char *ref = kith_eng_row_str(person, "referred_by");
    if (ref) {
        st = kith_store_get(tx, "referrals", ref, &referral);
        p->side = st == KITH_OK && strcmp(kith_eng_row_str(referral, "status"), "rejected") != 0;
        if (st == KITH_E_NOT_FOUND)
            st = KITH_OK;
    }
    json_decref(person);
    json_decref(referral);
    return st == KITH_OK ? person_insert(tx, p) : st;
}

enum kith_status kith_eng_health_joined(struct kith_tx *tx, json_t *person)
{
    struct person p;
    memset(&p, 0, sizeof(p));
    kith_strlcpy(p.id, kith_eng_row_str(person, "id"), sizeof(p.id));
    kith_strlcpy(p.program, kith_eng_row_str(person, "program"), sizeof(p.program));
    p.joined_at = kith_eng_row_int(person, "created_at");
    p.active = 1;
    /* A referred person counts with their referral (one write for both). */
    if (kith_eng_row_str(person, "referred_by") != NULL)
        return KITH_OK;
    struct deltas d;
    d.nw = d.nh = d.nq = 0;
    contribute(&p, +1, &d);
    return flush(tx, p.program, &d);
}

enum kith_status kith_eng_health_active(struct kith_tx *tx, const char *participant, bool active)
{
    struct person before, after;
    enum kith_status st = person_get(tx, participant, &before);
    if (st == KITH_E_NOT_FOUND)
        return KITH_OK;
    if (st != KITH_OK || before.active == (int)active)
        return st;
    after = before;
    after.active = active;
    return person_change(tx, &before, &after);
}

static enum kith_status set_side(struct kith_tx *tx, const char *participant, int side)
{
    struct person before, after;
    enum kith_status st = person_get(tx, participant, &before);
    if (st == KITH_E_NOT_FOUND)
        return KITH_OK;
    if (st != KITH_OK || before.side == side)
        return st;
    after = before;
    after.side = side;
    return person_change(tx, &before, &after);
}

static enum kith_status week_count(struct kith_tx *tx, const char *program, int64_t at_ms,
                                   enum col c, int64_t n)
{
    struct deltas d;
    d.nw = d.nh = d.nq = 0;
    add_week(&d, kith_stats_week_of(at_ms), c, n);
    return flush(tx, program, &d);
}

enum kith_status kith_eng_health_referral_created(struct kith_tx *tx, json_t *referral)
{
    const char *id = kith_eng_row_str(referral, "id"),
               *program = kith_eng_row_str(referral, "program");
    const char *status = kith_eng_row_str(referral, "status");
    const char *referrer = kith_eng_row_str(referral, "referrer");
    int64_t at = kith_eng_row_int(referral, "created_at");
    bool review = strcmp(status, "review") == 0, rejected = strcmp(status, "rejected") == 0;
    struct kith_eng_exp e;
    const char *variant = NULL;
    enum kith_status st = kith_eng_exp_running(tx, program, &e);
    if (st == KITH_OK)
        variant = kith_eng_exp_assign(&e, referrer);
    else if (st != KITH_E_NOT_FOUND)
        return st;
    st = KITH_OK;
    /* A row only for what a referral's own columns cannot say: sent to review, or made under
     * an experiment; no row reads as neither (most referrals, one insert fewer per signup). */
    if (review || variant) {
        json_t *row =
            json_pack("{s:s,s:s,s:s,s:I,s:i,s:o,s:o}", "referral", id, "program", program,
                      "referrer", referrer, "created_at", (json_int_t)at, "reviewed",
                      review ? 1 : 0, "experiment", variant ? json_string(e.id) : json_null(),
                      "variant", variant ? json_string(variant) : json_null());
        st = kith_store_insert(tx, "health_referrals", row);
        json_decref(row);
    }
    if (st == KITH_OK && variant)
        st = kith_eng_exp_member(tx, &e, referrer, true);
    if (st != KITH_OK)
        return st;
    struct deltas d;
    d.nw = d.nh = d.nq = 0;
    int64_t w = kith_stats_week_of(at);
    add_week(&d, w, C_SIGNUPS, 1);
    add_week(&d, w, C_REVIEWED, review);
    add_week(&d, w, C_REJECTED, rejected);
    /* The referred person was born a moment ago in this transaction, with referred_by naming
     * this referral (signups.c, imports.c: a participant is never referred later) and nothing
     * counted yet (kith_eng_health_joined): they count now, as referred unless rejected at
     * birth, in the same write as the signup. */
    struct person born;
    memset(&born, 0, sizeof(born));
    kith_strlcpy(born.id, kith_eng_row_str(referral, "referred"), sizeof(born.id));
    kith_strlcpy(born.program, program, sizeof(born.program));
    born.joined_at = at;
    born.side = !rejected;
    born.active = 1;
    contribute(&born, +1, &d);
    if (rejected && (st = person_insert(tx, &born)) != KITH_OK)
        return st; /* organic from birth: the row says so, whatever the participant says */
    if ((st = flush(tx, program, &d)) != KITH_OK)
        return st;
    /* The referrer's first own referral (the cycle time counts from their signup to it): one
     * narrow lookup answers for every referral but the first. */
    json_t *row = NULL, *args = json_pack("[s]", referrer);
    st = kith_store_query_one(tx, KITH_Q_HEALTH_PERSON_FIRST_REFERRAL, args, &row);
    json_decref(args);
    bool later = st == KITH_OK && !kith_eng_row_is_null(row, "first_referral_at") &&
                 kith_eng_row_int(row, "first_referral_at") <= at;
    json_decref(row);
    if ((st != KITH_OK && st != KITH_E_NOT_FOUND) || later)
        return st;
    struct person before, after;
    if ((st = person_get(tx, referrer, &before)) != KITH_OK)
        return st == KITH_E_NOT_FOUND ? KITH_OK : st;
    if (before.referred_someone && before.first_referral_at <= at)
        return KITH_OK;
    after = before;
    after.referred_someone = true;
    after.first_referral_at = at;
    return person_change(tx, &before, &after);
}

static bool counted_qualified(enum kith_referral_status s)
{
    return s == KITH_REFERRAL_QUALIFIED || s == KITH_REFERRAL_REWARDED;
}

static enum kith_status referrer_qualified(struct kith_tx *tx, const char *referrer, int delta)
{
    struct person before, after;
    enum kith_status st = person_get(tx, referrer, &before);
    if (st == KITH_E_NOT_FOUND)
        return KITH_OK;
    if (st != KITH_OK)
        return st;
    after = before;
    after.qualified += delta;
    if (after.qualified < 0)
        after.qualified = 0;
    return person_change(tx, &before, &after);
}

enum kith_status kith_eng_health_referral_moving(struct kith_tx *tx, json_t *referral,
                                                 enum kith_referral_status to, int64_t at_ms)
{
    enum kith_referral_status from;
    if (!kith_referral_status_parse(kith_eng_row_str(referral, "status"), &from) || from == to)
        return KITH_OK;
    const char *program = kith_eng_row_str(referral, "program");
    const char *referrer = kith_eng_row_str(referral, "referrer");
    int64_t created = kith_eng_row_int(referral, "created_at");
    enum kith_status st = KITH_OK;
    if (counted_qualified(from) && !counted_qualified(to)) {
        if (!kith_eng_row_is_null(referral, "qualified_at"))
            st = week_count(tx, program, kith_eng_row_int(referral, "qualified_at"), C_QUALIFIED,
                            -1);
        if (st == KITH_OK)
            st = referrer_qualified(tx, referrer, -1);
    } else if (!counted_qualified(from) && counted_qualified(to)) {
        /* Only qualified enters the set from outside it; it is stamped with at_ms. */
        int64_t q = to == KITH_REFERRAL_QUALIFIED || kith_eng_row_is_null(referral, "qualified_at")
                        ? at_ms
                        : kith_eng_row_int(referral, "qualified_at");
        st = week_count(tx, program, q, C_QUALIFIED, 1);
        if (st == KITH_OK)
            st = referrer_qualified(tx, referrer, 1);
    }
    if (st == KITH_OK && to == KITH_REFERRAL_REJECTED) {
        st = week_count(tx, program, created, C_REJECTED, 1);
        if (st == KITH_OK)
            st = set_side(tx, kith_eng_row_str(referral, "referred"), 0);
    }
    if (st == KITH_OK && to == KITH_REFERRAL_REVIEW) {
        int64_t changed = 0;
        json_t *args = json_pack("[sssI]", kith_eng_row_str(referral, "id"), program, referrer,
                                 (json_int_t)created);
        st = kith_store_exec(tx, KITH_Q_HEALTH_REFERRAL_REVIEWED, args, &changed);
        json_decref(args);
        if (st == KITH_OK && changed > 0)
            st = week_count(tx, program, created, C_REVIEWED, 1);
    }
    return st;
}

static enum kith_status cost_add(struct kith_tx *tx, json_t *reward, int64_t at_ms, int sign)
{
    if (kith_eng_row_is_null(reward, "amount") || kith_eng_row_str(reward, "currency") == NULL)
        return KITH_OK;
    json_t *args =
        json_pack("[sIsI]", kith_eng_row_str(reward, "program"),
                  (json_int_t)kith_stats_week_of(at_ms), kith_eng_row_str(reward, "currency"),
                  (json_int_t)(sign * kith_eng_row_int(reward, "amount")));
    enum kith_status st = kith_store_exec(tx, KITH_Q_HEALTH_COST_ADD, args, NULL);
    json_decref(args);
    return st;
}

enum kith_status kith_eng_health_reward_moving(struct kith_tx *tx, json_t *reward,
                                               enum kith_reward_status to, int64_t now_ms)
{
    /* The cost of section 14: monetary rewards issued, by their issue time, unless voided. */
    if (to == KITH_REWARD_ISSUED)
        return cost_add(tx, reward, now_ms, +1);
    if (to == KITH_REWARD_VOIDED && !kith_eng_row_is_null(reward, "issued_at"))
        return cost_add(tx, reward, kith_eng_row_int(reward, "issued_at"), -1);
    return KITH_OK;
}

/* The week's click count and its new sharers, for one participant's clicks of a batch. */
static enum kith_status clicks_of(struct kith_tx *tx, const struct kith_click *const *c, size_t n,
                                  const struct kith_eng_exp *e)
{
    struct person before, after;
    enum kith_status st = person_get(tx, c[0]->participant, &before);
    if (st == KITH_E_NOT_FOUND)
        return KITH_OK; /* no row to keep (a participant from before a failed rebuild) */
    if (st != KITH_OK)
        return st;
    after = before;
    struct deltas d;
    d.nw = d.nh = d.nq = 0;
    int64_t first = c[0]->at_ms, seen[8];
    size_t nseen = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t w = kith_stats_week_of(c[i]->at_ms);
        add_week(&d, w, C_CLICKS, 1);
        if (c[i]->at_ms < first)
            first = c[i]->at_ms;
        bool dup = after.has_last_week && after.last_week == w;
        for (size_t k = 0; k < nseen && !dup; k++)
            dup = seen[k] == w;
        if (dup || nseen == KITH_ARRAY_LEN(seen))
            continue;
        seen[nseen++] = w;
        /* The table decides whether this is the person's first click of the week; the
         * last_week column only spares the lookup for the week already counted. */
        int64_t added = 0;
        json_t *args = json_pack("[sIs]", after.program, (json_int_t)w, after.id);
        st = kith_store_exec(tx, KITH_Q_HEALTH_SHARER_WEEK, args, &added);
        json_decref(args);
        if (st != KITH_OK)
            return st;
        add_week(&d, w, C_SHARERS, added > 0);
    }
    for (size_t k = 0; k < nseen; k++) {
        if (!after.has_last_week || seen[k] > after.last_week) {
            after.has_last_week = true;
            after.last_week = seen[k];
        }
    }
    if (!after.clicked || first < after.first_click_at) {
        after.clicked = true;
        after.first_click_at = first;
    }
    if (after.clicked != before.clicked || after.first_click_at != before.first_click_at ||
        after.last_week != before.last_week || after.has_last_week != before.has_last_week) {
        contribute(&before, -1, &d);
        contribute(&after, +1, &d);
        if ((st = person_put(tx, &after)) != KITH_OK)
            return st;
    }
    if ((st = flush(tx, after.program, &d)) != KITH_OK)
        return st;
    return e ? kith_eng_exp_member(tx, e, after.id, false) : KITH_OK;
}

enum kith_status kith_eng_health_clicks(struct kith_tx *tx, const struct kith_click *const *sorted,
                                        size_t n)
{
    enum kith_status st = KITH_OK;
    /* One lookup of the running experiment per program of the batch (nearly always one). */
    char exp_program[48] = "";
    struct kith_eng_exp e;
    bool running = false;
    for (size_t i = 0; i < n && st == KITH_OK;) {
        size_t j = i;
        while (j < n && strcmp(sorted[j]->participant, sorted[i]->participant) == 0)
            j++;
        if (strcmp(exp_program, sorted[i]->program) != 0) {
            kith_strlcpy(exp_program, sorted[i]->program, sizeof(exp_program));
            st = kith_eng_exp_running(tx, exp_program, &e);
            running = st == KITH_OK;
            if (st == KITH_E_NOT_FOUND)
                st = KITH_OK;
        }
        if (st == KITH_OK)
            st = clicks_of(tx, &sorted[i], j - i, running ? &e : NULL);
        i = j;
    }
    return st;
}

/* Whether an event's amount is in the program's currency (or names none). */
static bool in_currency(const struct prog *p, json_t *ev)
{
    const char *cur = kith_eng_row_str(ev, "currency");
    return !kith_eng_row_is_null(ev, "amount") && (cur == NULL || strcmp(cur, p->currency) == 0);
}

enum kith_status kith_eng_health_event(struct kith_tx *tx, const struct prog *p, json_t *ev)
{
    const char *type = kith_eng_row_str(ev, "type");
    bool purchase = strcmp(type, "purchase") == 0, refund = strcmp(type, "refund") == 0;
    if (!purchase && !refund)
        return KITH_OK;
    struct person before, after;
    enum kith_status st = person_get(tx, kith_eng_row_str(ev, "participant"), &before);
    if (st != KITH_OK)
        return st == KITH_E_NOT_FOUND ? KITH_OK : st;
    after = before;
    int64_t amount = kith_eng_row_int(ev, "amount");
    if (purchase) {
        after.purchases++;
        if (in_currency(p, ev))
            after.revenue += amount;
    } else {
        after.refunds++;
        const char *group = kith_eng_row_str(ev, "external_ref");
        if (in_currency(p, ev) && group) {
            /* A running total: only what it adds to the largest earlier one is new. */
            json_t *row = NULL, *args = json_pack("[ssss]", after.id, group,
                                                  kith_eng_row_str(ev, "id"), p->currency);
            st = kith_store_query_one(tx, KITH_Q_HEALTH_REFUND_GROUP_MAX, args, &row);
            json_decref(args);
            int64_t prev = st == KITH_OK ? kith_eng_row_int(row, "m") : 0;
            json_decref(row);
            if (st != KITH_OK && st != KITH_E_NOT_FOUND)
                return st;
            after.revenue -= amount > prev ? amount - prev : 0;
        } else if (in_currency(p, ev)) {
            after.revenue -= amount;
        }
    }
    return person_change(tx, &before, &after);
}
