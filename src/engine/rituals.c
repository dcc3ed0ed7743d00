/*
 * rituals.c: what falls due on a month's first day (section 18), and the public program page.
 * On the first day of each month (UTC) the sweeper drafts last month's spotlight for programs
 * with `rituals.auto_draft` (spotlight.drafted), and, for programs with `rituals.digest`, sends
 * each person who had a click, a referral or a level change last month, wants the digest and has
 * not turned asks off, one digest: what happened, where they stand, their link. Each run is
 * claimed once per program and month (ritual_runs) and each digest once per person and month
 * (the digests table's key), so instances, restarts and test-clock jumps never send one twice.
 * A digest is a note, not an ask: it is not recorded with the asks and never counts for their
 * rules. The public page (`public_page: true`) shows what a program promises and celebrates,
 * with first names only.
 */
#include <stdio.h>
#include <string.h>

#include "engine/internal.h"
#include "engine/pages.h"

#define DIGEST_BATCH 200

static const char *const month_names[] = {"January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December"};

/* Claims (program, kind, period) once; *fresh tells whether this call made the claim. */
static enum kith_status claim(struct kith_tx *tx, const char *program, const char *kind,
                              const char *period, int64_t now_ms, bool *fresh)
{
    int64_t changes = 0;
    json_t *args = json_pack("[sssI]", program, kind, period, (json_int_t)now_ms);
    enum kith_status st = kith_store_exec(tx, KITH_Q_RITUALS_RUN_CLAIM, args, &changes);
    json_decref(args);
    *fresh = changes > 0;
    return st;
}

static enum kith_status auto_draft(struct kith_tx *tx, const char *program, json_t *cfg,
                                   struct kith_period last, int64_t now_ms)
{
    char text[KITH_PERIOD_TEXT];
    bool fresh = false;
    kith_period_format(last, text);
    enum kith_status st = claim(tx, program, "spotlight", text, now_ms, &fresh);
    if (st != KITH_OK || !fresh)
        return st;
    /* A spotlight someone already made for that month stays as it is. */
    json_t *row = NULL, *args = json_pack("[ss]", program, text);
    st = kith_store_query_one(tx, KITH_Q_SPOTLIGHTS_BY_PERIOD, args, &row);
    json_decref(args);
    json_decref(row);
    if (st != KITH_E_NOT_FOUND)
        return st;
    bool created = false;
    struct kith_err err = {"", ""};
    st = kith_eng_spotlight_draft(tx, program, cfg, last, now_ms, &row, &created, &err);
    json_decref(row);
    return st == KITH_E_INVALID_STATE ? KITH_OK : st;
}

/* Appends "<before><n> <one|many><after>" as a sentence of out. */
static void add(char *out, size_t size, const char *before, long long n, const char *one,
                const char *many, const char *after)
{
    size_t len = strlen(out);
    if (len + 1 < size)
        snprintf(out + len, size - len, "%s%s%lld %s%s", len ? " " : "", before, n,
                 n == 1 ? one : many, after);
}

/* The configured name of a track (section 15) or of one of its levels; the id when unnamed. */
static const char *track_name(json_t *cfg, const char *track, const char *level)
{
    size_t i, k;
    json_t *t, *l;
    json_array_foreach(json_object_get(cfg, "tracks"), i, t)
    {
        const char *id = kith_eng_row_str(t, "id");
        if (id == NULL || strcmp(id, track) != 0)
            continue;
        if (level == NULL)
            return kith_eng_row_str(t, "name") ? kith_eng_row_str(t, "name") : track;
        json_array_foreach(json_object_get(t, "levels"), k, l)
        {
            const char *lid = kith_eng_row_str(l, "id");
            if (lid && strcmp(lid, level) == 0 && kith_eng_row_str(l, "name"))
                return kith_eng_row_str(l, "name");
        }
    }
    return level ? level : track;
}

/* Where the person stands on each track, when the program has tracks (section 15). */
static void progress_words(json_t *cfg, json_t *progress, char *out, size_t size)
{
    const char *track;
    json_t *p;
    json_object_foreach(progress, track, p)
    {
        size_t len = strlen(out);
        const char *level = kith_eng_row_str(p, "level");
        json_t *next = json_object_get(p, "next");
        const char *next_level = kith_eng_row_str(next, "level");
        const char *name = track_name(cfg, track, NULL);
        long long remaining = (long long)kith_eng_row_int(next, "remaining");
        if (len + 1 >= size)
            return;
        /* Only tracks the person has set out on: a digest reports, it does not recruit. */
        if (level == NULL && kith_eng_row_int(p, "count") < 1)
            continue;
        if (level && next_level)
            snprintf(out + len, size - len, "%sOn %s you are %s, %lld away from %s.",
                     len ? " " : "", name, track_name(cfg, track, level), remaining,
                     track_name(cfg, track, next_level));
        else if (level)
            snprintf(out + len, size - len, "%sOn %s you are %s.", len ? " " : "", name,
                     track_name(cfg, track, level));
        else if (next_level)
            snprintf(out + len, size - len, "%sOn %s you are %lld away from %s.", len ? " " : "",
                     name, remaining, track_name(cfg, track, next_level));
    }
}

static enum kith_status send_digest(struct kith_tx *tx, const struct kith_engine *eng, json_t *cfg,
                                    json_t *person, struct kith_period last, int64_t now_ms)
{
    const char *pid = kith_eng_row_str(person, "id");
    char text[KITH_PERIOD_TEXT];
    int64_t changes = 0, from = kith_period_start_ms(last), to = kith_period_end_ms(last);
    kith_period_format(last, text);
    json_t *args =
        json_pack("[sssI]", pid, text, kith_eng_row_str(person, "program"), (json_int_t)now_ms);
    enum kith_status st = kith_store_exec(tx, KITH_Q_DIGESTS_CLAIM, args, &changes);
    json_decref(args);
    if (st != KITH_OK || changes == 0)
        return st; /* someone sent it already */
    json_t *f = NULL;
    args = json_pack("[sII]", pid, (json_int_t)from, (json_int_t)to);
    st = kith_store_query_one(tx, KITH_Q_DIGESTS_FACTS, args, &f);
    json_decref(args);
    if (st != KITH_OK)
        return st;
    /* Only what happened is said, on one line (rendered values lose line breaks). */
    char said[1024];
    snprintf(said, sizeof(said), "%s %d:", month_names[last.month - 1], last.year);
    static const struct {
        const char *col, *before, *one, *many, *after;
    } lines[] = {
        {"clicks", "Your link was opened ", "time", "times", "."},
        {"joined", "", "friend joined", "friends joined", " through you."},
        {"qualified", "", "friend you invited is", "friends you invited are",
         " now fully on board."},
        {"levels", "You reached ", "new level", "new levels", "."},
        {"joined_all", "So far ", "friend has come", "friends have come", " through you."},
    };
    for (size_t i = 0; i < KITH_ARRAY_LEN(lines); i++) {
        long long n = kith_eng_row_int(f, lines[i].col);
        if (n > 0)
            add(said, sizeof(said), lines[i].before, n, lines[i].one, lines[i].many,
                lines[i].after);
    }
    json_decref(f);
    json_t *shown = kith_eng_render_participant(tx, eng, person);
    json_t *progress = json_object_get(shown, "progress");
    if (json_is_object(progress)) {
        size_t len = strlen(said);
        if (len + 2 < sizeof(said)) {
            said[len] = ' ';
            said[len + 1] = '\0';
            progress_words(cfg, progress, said + len + 1, sizeof(said) - len - 1);
            if (said[len + 1] == '\0')
                said[len] = '\0';
        }
    }
    json_decref(shown);
    char id[KITH_ID_MAX];
    struct kith_eng_note note = {.tpl = "digest", .stage = "digest", .summary = said, .id_out = id};
    if ((st = kith_eng_note_keep(tx, eng, cfg, person, &note, now_ms)) != KITH_OK)
        return st;
    args = json_pack("[sss]", id, pid, text);
    st = kith_store_exec(tx, KITH_Q_DIGESTS_NOTED, args, NULL);
    json_decref(args);
    return st;
}

static enum kith_status digests(struct kith_tx *tx, const struct kith_engine *eng,
                                const char *program, json_t *cfg, struct kith_period last,
                                int64_t now_ms, bool *more)
{
    char text[KITH_PERIOD_TEXT];
    bool fresh = false;
    kith_period_format(last, text);
    enum kith_status st = claim(tx, program, "digest", text, now_ms, &fresh);
    json_t *run = NULL, *rows = NULL, *args = json_pack("[sss]", program, "digest", text);
    if (st == KITH_OK)
        st = kith_store_query_one(tx, KITH_Q_RITUALS_RUN_GET, args, &run);
    json_decref(args);
    if (st == KITH_E_NOT_FOUND)
        st = KITH_OK; /* claimed by a transaction this one cannot see yet: the digests' key holds */
    bool done = run != NULL && kith_eng_row_int(run, "done") != 0;
    json_decref(run);
    if (st != KITH_OK || done)
        return st;
    args = json_pack("[ssIII]", program, text, (json_int_t)kith_period_start_ms(last),
                     (json_int_t)kith_period_end_ms(last), (json_int_t)DIGEST_BATCH);
    st = kith_store_query(tx, KITH_Q_DIGESTS_DUE, args, &rows);
    json_decref(args);
    if (st != KITH_OK)
        return st;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        if ((st = send_digest(tx, eng, cfg, r, last, now_ms)) != KITH_OK)
            break;
    }
    size_t n = json_array_size(rows);
    json_decref(rows);
    if (st != KITH_OK)
        return st;
    if (n == DIGEST_BATCH) {
        *more = true;
        return KITH_OK;
    }
    args = json_pack("[sss]", program, "digest", text);
    st = kith_store_exec(tx, KITH_Q_RITUALS_RUN_DONE, args, NULL);
    json_decref(args);
    return st;
}

enum kith_status kith_eng_rituals_sweep(struct kith_tx *tx, const struct kith_engine *eng,
                                        int64_t now_ms, bool *more)
{
    if (!kith_period_first_day(now_ms))
        return KITH_OK;
    struct kith_period last = kith_period_add(kith_period_of(now_ms), -1);
    json_t *rows = NULL, *args = json_pack("[II]", (json_int_t)0, (json_int_t)100000);
    enum kith_status st = kith_store_query(tx, KITH_Q_PROGRAMS_LIST, args, &rows);
    json_decref(args);
    if (st != KITH_OK)
        return st;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        const char *program = kith_eng_row_str(r, "id");
        json_t *cfg = NULL;
        if (kith_eng_prog_config(tx, program, &cfg) != KITH_OK)
            continue;
        struct kith_eng_rituals rit;
        kith_eng_rituals_of(cfg, &rit);
        if (rit.auto_draft)
            st = auto_draft(tx, program, cfg, last, now_ms);
        if (st == KITH_OK && rit.digest)
            st = digests(tx, eng, program, cfg, last, now_ms, more);
        json_decref(cfg);
        if (st != KITH_OK)
            break;
    }
    json_decref(rows);
    return st;
}

/* The latest published spotlight as the public sees it: first names, no ids. */
static enum kith_status public_spotlight(struct kith_tx *tx, const char *program, json_t **out)
{
    json_t *spot = NULL, *rows = NULL, *args = json_pack("[s]", program);
    enum kith_status st = kith_store_query_one(tx, KITH_Q_SPOTLIGHTS_LATEST, args, &spot);
    json_decref(args);
    *out = json_null();
    if (st == KITH_E_NOT_FOUND)
        return KITH_OK;
    if (st != KITH_OK)
        return st;
    args = json_pack("[s]", kith_eng_row_str(spot, "id"));
    st = kith_store_query(tx, KITH_Q_SPOTLIGHTS_WINNERS, args, &rows);
    json_decref(args);
    if (st != KITH_OK) {
        json_decref(spot);
        return st;
    }
    json_t *winners = json_array();
    size_t i;
    json_t *w;
    json_array_foreach(rows, i, w)
    {
        json_t *p = NULL;
        if (kith_store_get(tx, "participants", kith_eng_row_str(w, "participant"), &p) != KITH_OK)
            continue;
        /* Someone who was erased or has since withdrawn their consent is not shown. */
        if (kith_eng_row_int(p, "erased") == 0 && kith_eng_row_int(p, "pref_spotlight") != 0) {
            const char *note = kith_eng_row_str(w, "note");
            const char *first = kith_eng_row_str(p, "first_name");
            json_array_append_new(
                winners, json_pack("{s:s,s:o,s:o}", "category", kith_eng_row_str(w, "category"),
                                   "first_name", first ? json_string(first) : json_null(), "note",
                                   note ? json_string(note) : json_null()));
        }
        json_decref(p);
    }
    json_decref(rows);
    json_decref(*out);
    *out = json_pack("{s:s,s:o,s:o}", "period", kith_eng_row_str(spot, "period"), "published_at",
                     kith_eng_time_or_null(spot, "published_at"), "winners", winners);
    json_decref(spot);
    return KITH_OK;
}

enum kith_status kith_op_public_program(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                        struct kith_err *err)
{
    static const char *const allowed[] = {NULL};
    struct prog p;
    json_t *cfg = NULL, *totals = NULL, *kinds = NULL, *spotlight = NULL, *board = NULL;
    enum kith_status st = kith_eng_q_allowed(call->query, allowed, err);
    if (st != KITH_OK)
        return st;
    if ((st = kith_eng_prog_load(tx, call->params[0], &p, NULL)) != KITH_OK ||
        (st = kith_eng_prog_config(tx, p.id, &cfg)) != KITH_OK || !kith_eng_public_page(cfg)) {
        json_decref(cfg);
        if (st != KITH_OK && st != KITH_E_NOT_FOUND)
            return kith_err_set(err, st, NULL, "the database could not read the program");
        return kith_err_set(err, KITH_E_NOT_FOUND, NULL, "no such public program page");
    }
    json_t *args = json_pack("[s]", p.id);
    if ((st = kith_store_query_one(tx, KITH_Q_PUBLIC_TOTALS, args, &totals)) != KITH_OK ||
        (st = kith_store_query(tx, KITH_Q_PUBLIC_REWARDS_BY_KIND, args, &kinds)) != KITH_OK ||
        (st = public_spotlight(tx, p.id, &spotlight)) != KITH_OK) {
        json_decref(args);
        st = kith_err_set(err, st, NULL, "the database could not read the program page");
        goto out;
    }
    json_decref(args);
    /* The leaderboard exactly as section 14 shows it: top ten, opted-in people only. */
    char query[96];
    snprintf(query, sizeof(query), "program=%s&limit=10", p.id);
    struct kith_call sub = *call;
    sub.query = query;
    if ((st = kith_op_leaderboard(tx, &sub, &board, err)) != KITH_OK)
        goto out;
    json_t *by_kind = json_object();
    size_t i;
    json_t *r;
    json_array_foreach(kinds, i, r) json_object_set_new(by_kind, kith_eng_row_str(r, "kind"),
                                                        json_integer(kith_eng_row_int(r, "n")));
    json_t *tracks = json_object_get(cfg, "tracks");
    *out = json_object();
    json_object_set_new(*out, "program", json_pack("{s:s,s:s}", "id", p.id, "name", p.name));
    json_object_set_new(*out, "rules",
                        json_pack("{s:O,s:O,s:o}", "rewards", json_object_get(cfg, "rewards"),
                                  "qualification", json_object_get(cfg, "qualification"), "tracks",
                                  json_is_array(tracks) ? json_deep_copy(tracks) : json_array()));
    json_object_set_new(
        *out, "totals",
        json_pack("{s:I,s:I,s:o}", "participants",
                  (json_int_t)kith_eng_row_int(totals, "participants"), "qualified_referrals",
                  (json_int_t)kith_eng_row_int(totals, "qualified"), "rewards_by_kind", by_kind));
    json_object_set_new(*out, "spotlight", json_incref(spotlight));
    json_object_set_new(*out, "leaderboard", json_incref(board));
out:
    json_decref(cfg);
    json_decref(totals);
    json_decref(kinds);
    json_decref(spotlight);
    json_decref(board);
    return st;
}

enum kith_status kith_engine_public_program_page(struct kith_tx *tx, const struct kith_engine *eng,
                                                 const char *program, int64_t now_ms, json_t **out)
{
    const char *params[] = {program, NULL};
    struct kith_err err = {{0}, {0}};
    struct kith_call call = {.eng = eng, .params = params, .query = "", .now_ms = now_ms};
    struct prog p;
    enum kith_status st = kith_op_public_program(tx, &call, out, &err);
    if (st != KITH_OK)
        return st;
    if ((st = kith_eng_prog_load(tx, program, &p, NULL)) != KITH_OK)
        return st;
    /* The rules in words, as the friend landing page says them. */
    char words[400];
    json_t *said = json_object(), *referrer = json_array();
    for (size_t i = 0; i < p.nrules; i++) {
        kith_eng_rule_words(&p.rules[i], words, sizeof(words));
        if (p.rules[i].to == KITH_SIDE_REFERRED)
            json_object_set_new(said, "friend", json_string(words));
        else
            json_array_append_new(referrer, json_string(words));
    }
    json_object_set_new(said, "referrer", referrer);
    kith_eng_earn_words(&p, words, sizeof(words));
    json_object_set_new(said, "earned", json_string(words));
    json_object_set_new(*out, "words", said);
    return KITH_OK;
}
