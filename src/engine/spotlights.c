/*
 * spotlights.c: the monthly spotlight (section 18), a ritual that celebrates advocates openly.
 * A draft lists candidates in three categories (most qualified referrals in the month, a first
 * qualified referral in the month, most counted activities in the month), only among people who
 * opted in to being spotlighted, at most five each, best first, and never the published winners
 * of the last `rituals.rotation_periods` months, so the same few are not celebrated every time.
 * Publishing names the winners (each a candidate), tells each of them, gives the optional
 * `rituals.spotlight_reward` and emits spotlight.published, in one transaction. The counts come
 * from the store, the choosing from src/rituals. Candidates are kept as ids and counts; first
 * names are read when shown, so an erased person's name is never repeated.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "engine/templates.h"
#include "kith/rituals.h"

#define WINNERS_MAX (KITH_SPOTLIGHT_CANDIDATES_MAX * KITH_SPOTLIGHT_CATEGORY_COUNT)
#define NOTE_MAX 500

static const enum kith_query category_query[KITH_SPOTLIGHT_CATEGORY_COUNT] = {
    KITH_Q_SPOTLIGHTS_MOST_QUALIFIED, KITH_Q_SPOTLIGHTS_RISING, KITH_Q_SPOTLIGHTS_STORYTELLER};

static const char *const month_names[] = {"January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December"};

/* The person, when they may be shown: not erased, and for a draft still opted in and active. */
static json_t *shown_person(struct kith_tx *tx, const char *id, bool draft)
{
    json_t *p = NULL;
    if (id == NULL || kith_store_get(tx, "participants", id, &p) != KITH_OK)
        return NULL;
    bool ok = kith_eng_row_int(p, "erased") == 0;
    if (draft)
        ok = ok && kith_eng_row_int(p, "pref_spotlight") != 0 &&
             strcmp(kith_eng_row_str(p, "status"), "active") == 0;
    if (!ok) {
        json_decref(p);
        return NULL;
    }
    return p;
}

static json_t *render_spotlight(struct kith_tx *tx, json_t *row)
{
    bool draft = strcmp(kith_eng_row_str(row, "status"), "draft") == 0;
    json_t *stored = json_loads(kith_eng_row_str(row, "candidates"), 0, NULL);
    json_t *cands = json_object();
    for (int c = 0; c < KITH_SPOTLIGHT_CATEGORY_COUNT; c++) {
        const char *name = kith_spotlight_category_name((enum kith_spotlight_category)c);
        json_t *list = json_array(), *e;
        size_t i;
        json_array_foreach(json_object_get(stored, name), i, e)
        {
            json_t *p = shown_person(tx, kith_eng_row_str(e, "participant"), draft);
            if (p == NULL)
                continue;
            json_array_append_new(list, json_pack("{s:s,s:o,s:I}", "participant",
                                                  kith_eng_row_str(p, "id"), "first_name",
                                                  kith_eng_str_or_null(p, "first_name"), "count",
                                                  (json_int_t)kith_eng_row_int(e, "count")));
            json_decref(p);
        }
        json_object_set_new(cands, name, list);
    }
    json_decref(stored);
    json_t *winners = json_array(), *rows = NULL,
           *args = json_pack("[s]", kith_eng_row_str(row, "id"));
    if (kith_store_query(tx, KITH_Q_SPOTLIGHTS_WINNERS, args, &rows) == KITH_OK) {
        size_t i;
        json_t *w;
        json_array_foreach(rows, i, w)
        {
            json_t *p = shown_person(tx, kith_eng_row_str(w, "participant"), false);
            json_array_append_new(winners,
                                  json_pack("{s:o,s:o,s:o,s:o,s:o}", "category",
                                            kith_eng_str_or_null(w, "category"), "participant",
                                            kith_eng_str_or_null(w, "participant"), "first_name",
                                            p ? kith_eng_str_or_null(p, "first_name") : json_null(),
                                            "note", kith_eng_str_or_null(w, "note"), "reward",
                                            kith_eng_str_or_null(w, "reward")));
            json_decref(p);
        }
    }
    json_decref(rows);
    json_decref(args);
    json_t *out = json_object();
    json_object_set_new(out, "id", kith_eng_str_or_null(row, "id"));
    json_object_set_new(out, "program", kith_eng_str_or_null(row, "program"));
    json_object_set_new(out, "period", kith_eng_str_or_null(row, "period"));
    json_object_set_new(out, "status", kith_eng_str_or_null(row, "status"));
    json_object_set_new(out, "candidates", cands);
    json_object_set_new(out, "winners", winners);
    json_object_set_new(out, "created_at", kith_eng_time_or_null(row, "created_at"));
    json_object_set_new(out, "updated_at", kith_eng_time_or_null(row, "updated_at"));
    json_object_set_new(out, "published_at", kith_eng_time_or_null(row, "published_at"));
    return out;
}

/* The candidates of program for period as stored: {category: [{"participant", "count"}]}. */
static enum kith_status compute(struct kith_tx *tx, const char *program, int rotation,
                                struct kith_period period, json_t **out)
{
    char from_text[KITH_PERIOD_TEXT], to_text[KITH_PERIOD_TEXT];
    kith_period_format(kith_spotlight_rotation_start(period, rotation), from_text);
    kith_period_format(period, to_text);
    json_t *excl_rows = NULL, *args = json_pack("[sss]", program, from_text, to_text), *have = NULL;
    enum kith_status st = kith_store_query(tx, KITH_Q_SPOTLIGHTS_ROTATED, args, &excl_rows);
    json_decref(args);
    if (st != KITH_OK)
        return st;
    /* Activities belong to section 16; until their table exists there are no storytellers. */
    args = json_array();
    st = kith_store_query_one(tx, KITH_Q_SPOTLIGHTS_HAVE_ACTIVITIES, args, &have);
    json_decref(args);
    bool activities = st == KITH_OK && kith_eng_row_int(have, "n") > 0;
    json_decref(have);
    if (st != KITH_OK) {
        json_decref(excl_rows);
        return st;
    }
    size_t nexcl = json_array_size(excl_rows);
    const char **excluded = calloc(nexcl ? nexcl : 1, sizeof(*excluded));
    if (excluded == NULL)
        abort();
    for (size_t i = 0; i < nexcl; i++)
        excluded[i] = kith_eng_row_str(json_array_get(excl_rows, i), "participant");
    int64_t from_ms = kith_period_start_ms(period), to_ms = kith_period_end_ms(period);
    *out = json_object();
    for (int c = 0; c < KITH_SPOTLIGHT_CATEGORY_COUNT && st == KITH_OK; c++) {
        json_t *list = json_array(), *rows = NULL;
        json_object_set_new(*out, kith_spotlight_category_name((enum kith_spotlight_category)c),
                            list);
        if (c == KITH_SPOTLIGHT_STORYTELLER && !activities)
            continue;
        args = json_pack("[sIII]", program, (json_int_t)from_ms, (json_int_t)to_ms,
                         (json_int_t)(KITH_SPOTLIGHT_CANDIDATES_MAX + nexcl));
        st = kith_store_query(tx, category_query[c], args, &rows);
        json_decref(args);
        if (st != KITH_OK)
            break;
        size_t n = json_array_size(rows), picked[KITH_SPOTLIGHT_CANDIDATES_MAX];
        struct kith_spotlight_row *sr = calloc(n ? n : 1, sizeof(*sr));
        if (sr == NULL)
            abort();
        for (size_t i = 0; i < n; i++) {
            json_t *r = json_array_get(rows, i);
            sr[i] = (struct kith_spotlight_row){kith_eng_row_str(r, "participant"),
                                                kith_eng_row_int(r, "n"),
                                                kith_eng_row_int(r, "first_at")};
        }
        size_t k =
            kith_spotlight_pick(sr, n, excluded, nexcl, KITH_SPOTLIGHT_CANDIDATES_MAX, picked);
        for (size_t i = 0; i < k; i++)
            json_array_append_new(list,
                                  json_pack("{s:s,s:I}", "participant", sr[picked[i]].participant,
                                            "count", (json_int_t)sr[picked[i]].count));
        free(sr);
        json_decref(rows);
    }
    free(excluded);
    json_decref(excl_rows);
    if (st != KITH_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return st;
}

enum kith_status kith_eng_spotlight_draft(struct kith_tx *tx, const char *program, json_t *cfg,
                                          struct kith_period period, int64_t now_ms, json_t **row,
                                          bool *created, struct kith_err *err)
{
    struct kith_eng_rituals rit;
    char text[KITH_PERIOD_TEXT];
    json_t *cands = NULL, *existing = NULL;
    kith_eng_rituals_of(cfg, &rit);
    kith_period_format(period, text);
    *row = NULL;
    *created = false;
    json_t *args = json_pack("[ss]", program, text);
    enum kith_status st = kith_store_query_one(tx, KITH_Q_SPOTLIGHTS_BY_PERIOD, args, &existing);
    json_decref(args);
    if (st != KITH_OK && st != KITH_E_NOT_FOUND)
        return kith_err_set(err, st, NULL, "the database could not read spotlights");
    if (existing && strcmp(kith_eng_row_str(existing, "status"), "draft") != 0) {
        json_decref(existing);
        return kith_err_set(err, KITH_E_INVALID_STATE, "period",
                            "the spotlight of %s is published already", text);
    }
    if ((st = compute(tx, program, rit.rotation_periods, period, &cands)) != KITH_OK) {
        json_decref(existing);
        return kith_err_set(err, st, NULL, "the database could not count the candidates");
    }
    char *ctext = json_dumps(cands, JSON_COMPACT);
    json_decref(cands);
    if (existing) {
        json_t *set = json_pack("{s:s,s:I}", "candidates", ctext, "updated_at", (json_int_t)now_ms);
        st = kith_store_update(tx, "spotlights", kith_eng_row_str(existing, "id"), set);
        json_object_update(existing, set);
        json_decref(set);
        *row = existing;
    } else {
        char id[KITH_ID_MAX];
        kith_crypto_random_id("spl_", id);
        *row = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:n}", "id", id, "program", program,
                         "period", text, "status", "draft", "candidates", ctext, "created_at",
                         (json_int_t)now_ms, "updated_at", (json_int_t)now_ms, "published_at");
        st = kith_store_insert(tx, "spotlights", *row);
        *created = st == KITH_OK;
        /* Another draft of the same month committed first (the sweeper and a request). */
        if (st == KITH_E_CONSTRAINT)
            st = KITH_E_UNAVAILABLE;
        if (st == KITH_OK && kith_eng_outbox_wanted(tx))
            st = kith_eng_outbox_emit(tx, "spotlight.drafted", render_spotlight(tx, *row), now_ms);
    }
    free(ctext);
    if (st != KITH_OK) {
        json_decref(*row);
        *row = NULL;
        return kith_err_set(err, st, NULL, "the database could not store the spotlight");
    }
    return KITH_OK;
}

enum kith_status kith_op_spotlight_create(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                          struct kith_err *err)
{
    static const char *const allowed[] = {"program", "period", NULL};
    const char *program = NULL, *period_text = NULL;
    struct prog p;
    struct kith_period period = kith_period_add(kith_period_of(call->now_ms), -1);
    json_t *cfg = NULL, *row = NULL;
    bool created = false;
    enum kith_status st;
    if ((st = kith_eng_in_allowed(call->body, allowed, err)) != KITH_OK ||
        (st = kith_eng_in_string(call->body, "program", false, 1, 40, &program, err)) != KITH_OK ||
        (st = kith_eng_in_string(call->body, "period", false, 1, 16, &period_text, err)) != KITH_OK)
        return st;
    if (period_text && !kith_period_parse(period_text, &period))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "period",
                            "'period' must be a month written YYYY-MM, such as 2035-01");
    if (kith_period_start_ms(period) > call->now_ms)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "period", "that month has not begun yet");
    if ((st = kith_eng_prog_resolve(tx, program, &p, err)) != KITH_OK)
        return st;
    if ((st = kith_eng_prog_config(tx, p.id, &cfg)) != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not read the program");
    st = kith_eng_spotlight_draft(tx, p.id, cfg, period, call->now_ms, &row, &created, err);
    if (st == KITH_OK) {
        *out = render_spotlight(tx, row);
        st = created ? KITH_CREATED : KITH_OK;
    }
    json_decref(row);
    json_decref(cfg);
    return st;
}

static json_t *render_spotlight_row(struct kith_tx *tx, void *ctx, json_t *row)
{
    (void)ctx;
    return render_spotlight(tx, row);
}

enum kith_status kith_op_spotlight_list(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                        struct kith_err *err)
{
    static const char *const allowed[] = {"program", "limit", "cursor", NULL};
    char program[64];
    bool has_program;
    int64_t limit, after;
    json_t *rows = NULL;
    enum kith_status st;
    if ((st = kith_eng_q_allowed(call->query, allowed, err)) != KITH_OK ||
        (st = kith_eng_q_page(call->query, &limit, &after, err)) != KITH_OK ||
        (st = kith_eng_q_string(call->query, "program", program, sizeof(program), &has_program,
                                err)) != KITH_OK)
        return st;
    json_t *args = json_array();
    json_array_append_new(args, json_integer(after));
    json_array_append_new(args, has_program ? json_string(program) : json_null());
    json_array_append_new(args, json_integer(limit + 1));
    st = kith_store_query(tx, KITH_Q_SPOTLIGHTS_LIST, args, &rows);
    json_decref(args);
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not list spotlights");
    *out = kith_eng_list_page(rows, limit, render_spotlight_row, tx, NULL);
    json_decref(rows);
    return KITH_OK;
}

enum kith_status kith_op_spotlight_get(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                       struct kith_err *err)
{
    static const char *const allowed[] = {NULL};
    json_t *row = NULL;
    enum kith_status st = kith_eng_q_allowed(call->query, allowed, err);
    if (st != KITH_OK || (st = kith_eng_load_row(tx, "spotlights", call->params[0], "spotlight",
                                                 &row, err)) != KITH_OK)
        return st;
    *out = render_spotlight(tx, row);
    json_decref(row);
    return KITH_OK;
}

/* One winner as asked for, checked against the draft. */
struct winner {
    enum kith_spotlight_category category;
    const char *participant;
    const char *note;
    json_t *person;
};

static bool is_candidate(json_t *cands, enum kith_spotlight_category c, const char *participant)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(cands, kith_spotlight_category_name(c)), i, e)
    {
        const char *who = kith_eng_row_str(e, "participant");
        if (who && strcmp(who, participant) == 0)
            return true;
    }
    return false;
}

static enum kith_status parse_winners(struct kith_tx *tx, json_t *body, json_t *cands,
                                      struct winner *w, size_t *n, struct kith_err *err)
{
    static const char *const fields[] = {"category", "participant", "note", NULL};
    json_t *list = json_object_get(body, "winners");
    *n = 0;
    if (!json_is_array(list) || json_array_size(list) < 1 || json_array_size(list) > WINNERS_MAX)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "winners",
                            "'winners' must list 1 to %d of the draft's candidates", WINNERS_MAX);
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        char param[48];
        const char *cat = NULL;
        enum kith_status st;
        snprintf(param, sizeof(param), "winners[%zu]", i);
        struct winner *x = &w[*n];
        memset(x, 0, sizeof(*x));
        if (!json_is_object(e))
            return kith_err_set(err, KITH_E_INVALID_PARAM, param,
                                "each winner is {\"category\", \"participant\", \"note\"}");
        if ((st = kith_eng_in_allowed(e, fields, err)) != KITH_OK ||
            (st = kith_eng_in_string(e, "category", true, 1, 32, &cat, err)) != KITH_OK ||
            (st = kith_eng_in_string(e, "participant", true, 1, 64, &x->participant, err)) !=
                KITH_OK ||
            (st = kith_eng_in_string(e, "note", false, 0, NOTE_MAX, &x->note, err)) != KITH_OK) {
            char full[160];
            snprintf(full, sizeof(full), "%s.%s", param, err->param);
            kith_strlcpy(err->param, full, sizeof(err->param));
            return st;
        }
        snprintf(param, sizeof(param), "winners[%zu].category", i);
        if (!kith_spotlight_category_parse(cat, &x->category))
            return kith_err_set(err, KITH_E_INVALID_PARAM, param,
                                "'category' must be most_qualified, rising or storyteller");
        snprintf(param, sizeof(param), "winners[%zu].participant", i);
        if (!is_candidate(cands, x->category, x->participant))
            return kith_err_set(err, KITH_E_INVALID_PARAM, param,
                                "%s is not a %s candidate of this spotlight", x->participant, cat);
        for (size_t k = 0; k < *n; k++) {
            if (strcmp(w[k].participant, x->participant) == 0)
                return kith_err_set(err, KITH_E_INVALID_PARAM, param,
                                    "a person is spotlighted once per spotlight");
        }
        /* Consent is read again: someone may have opted out since the draft. */
        x->person = shown_person(tx, x->participant, true);
        if (x->person == NULL)
            return kith_err_set(err, KITH_E_INVALID_PARAM, param,
                                "%s is no longer opted in to the spotlight (or is blocked)",
                                x->participant);
        (*n)++;
    }
    return KITH_OK;
}

/* What the winner's note says, on one line (values lose line breaks when rendered). */
static void summary_words(const struct winner *w, struct kith_period period,
                          const char *program_name, const char *reward, char *out, size_t size)
{
    /* What the category celebrates, around the program's name. */
    static const char *const why[][2] = {
        {"for the friends you welcomed to ", ""},
        {"as a rising advocate: your first friend joined ", " through you"},
        {"for the stories you shared about ", ""},
    };
    char reason[300];
    snprintf(reason, sizeof(reason), "%s%s%s", why[w->category][0],
             program_name ? program_name : "us", why[w->category][1]);
    int n = snprintf(out, size, "We are celebrating you in our %s %d spotlight %s.",
                     month_names[period.month - 1], period.year, reason);
    if (n > 0 && (size_t)n < size && w->note && w->note[0])
        n += snprintf(out + n, size - (size_t)n, " %s", w->note);
    if (n > 0 && (size_t)n < size && reward && reward[0])
        snprintf(out + n, size - (size_t)n, " What comes with it: %s.", reward);
}

static enum kith_status crown(struct kith_tx *tx, struct kith_call *call, json_t *cfg, json_t *spot,
                              struct kith_period period, const struct kith_eng_rituals *rit,
                              const struct winner *w)
{
    enum kith_status st = KITH_OK;
    const char *spot_id = kith_eng_row_str(spot, "id");
    json_t *reward = NULL;
    char words[300] = "", summary[1200], id[KITH_ID_MAX];
    if (rit->reward) {
        json_t *source = json_pack("{s:s}", "spotlight", spot_id);
        st = kith_eng_participant_reward(tx, kith_eng_row_str(spot, "program"), w->participant,
                                         rit->reward, source, call->now_ms, &reward);
        json_decref(source);
        if (st != KITH_OK)
            return st;
        kith_template_reward_text(reward, words, sizeof(words));
    }
    kith_crypto_random_id("spw_", id);
    json_t *row = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "id", id, "spotlight", spot_id,
                            "program", kith_eng_row_str(spot, "program"), "period",
                            kith_eng_row_str(spot, "period"), "participant", w->participant,
                            "category", kith_spotlight_category_name(w->category), "created_at",
                            (json_int_t)call->now_ms);
    json_object_set_new(row, "note", w->note ? json_string(w->note) : json_null());
    json_object_set_new(row, "reward",
                        reward ? json_string(kith_eng_row_str(reward, "id")) : json_null());
    st = kith_store_insert(tx, "spotlight_winners", row);
    json_decref(row);
    summary_words(w, period, json_string_value(json_object_get(cfg, "name")), words, summary,
                  sizeof(summary));
    struct kith_eng_note note = {
        .tpl = "spotlight",
        .stage = "spotlight",
        .summary = summary,
        .reward = words,
        .reward_id = reward ? kith_eng_row_str(reward, "id") : NULL,
    };
    if (st == KITH_OK)
        st = kith_eng_note_keep(tx, call->eng, cfg, w->person, &note, call->now_ms);
    json_decref(reward);
    return st;
}

enum kith_status kith_op_spotlight_publish(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                           struct kith_err *err)
{
    static const char *const allowed[] = {"winners", NULL};
    struct winner w[WINNERS_MAX];
    size_t n = 0;
    json_t *spot = NULL, *cands = NULL, *cfg = NULL;
    struct kith_period period;
    enum kith_status st;
    if ((st = kith_eng_in_allowed(call->body, allowed, err)) != KITH_OK)
        return st;
    if ((st = kith_eng_load_locked(tx, "spotlights", call->params[0], "spotlight", &spot, err)) !=
        KITH_OK)
        return st;
    if (strcmp(kith_eng_row_str(spot, "status"), "draft") != 0) {
        st = kith_err_set(err, KITH_E_INVALID_STATE, NULL, "this spotlight is published already");
        goto out;
    }
    cands = json_loads(kith_eng_row_str(spot, "candidates"), 0, NULL);
    if ((st = parse_winners(tx, call->body, cands, w, &n, err)) != KITH_OK)
        goto out;
    if (!kith_period_parse(kith_eng_row_str(spot, "period"), &period) ||
        (st = kith_eng_prog_config(tx, kith_eng_row_str(spot, "program"), &cfg)) != KITH_OK) {
        st = kith_err_set(err, KITH_E_INTERNAL, NULL, "the spotlight's program is unreadable");
        goto out;
    }
    struct kith_eng_rituals rit;
    kith_eng_rituals_of(cfg, &rit);
    for (size_t i = 0; i < n && st == KITH_OK; i++)
        st = crown(tx, call, cfg, spot, period, &rit, &w[i]);
    if (st != KITH_OK) {
        if (st != KITH_E_INTERNAL)
            st = kith_err_set(err, st, NULL, "the database could not publish the spotlight");
        goto out;
    }
    json_t *set = json_pack("{s:s,s:I,s:I}", "status", "published", "published_at",
                            (json_int_t)call->now_ms, "updated_at", (json_int_t)call->now_ms);
    st = kith_store_update(tx, "spotlights", kith_eng_row_str(spot, "id"), set);
    json_object_update(spot, set);
    json_decref(set);
    if (st == KITH_OK && kith_eng_outbox_wanted(tx))
        st = kith_eng_outbox_emit(tx, "spotlight.published", render_spotlight(tx, spot),
                                  call->now_ms);
    if (st != KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not publish the spotlight");
        goto out;
    }
    *out = render_spotlight(tx, spot);
out:
    for (size_t i = 0; i < n; i++)
        json_decref(w[i].person);
    json_decref(spot);
    json_decref(cands);
    json_decref(cfg);
    return st;
}
