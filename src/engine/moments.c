/*
 * moments.c: natural moments and the asks they may lead to (section 17). A business reports a
 * moment (a purchase, a milestone, a kind NPS score); kith gathers the person's facts, asks
 * src/asks whether this is a good time, records the moment with the decision and its reason,
 * and for an ask records it, composes the messages, notes it in the person's feed and emits
 * ask.created, all in one transaction. An ask is answered by the first counted click on the
 * person's links inside its window: the click batch marks it (kith_eng_asks_clicks, one
 * statement per batch), and an ask made for a moment reported late is matched against the clicks
 * already recorded; it is ignored once its window has passed, which is read from the clock, never
 * written. The moment's `id` dedupes like an event's. Also the asks list, and what these tables
 * hold about a person for export and erasure.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "engine/templates.h"

#define RECENT_MAX 100 /* stop_after_ignored is at most 100 */

static const char *const moment_fields[] = {"program", "external_id", "type", "score",
                                            "id",      "occurred_at", NULL};
static const char *const channels[] = {"email", "sms", "whatsapp", "social"};

static json_t *render_ask(json_t *row, int64_t now_ms)
{
    struct kith_ask_past a = {
        kith_eng_row_int(row, "asked_at"), kith_eng_row_int(row, "answer_by"),
        kith_eng_row_is_null(row, "answered_at") ? -1 : kith_eng_row_int(row, "answered_at")};
    enum kith_ask_state state = kith_ask_state_at(&a, now_ms);
    json_t *out = json_object();
    json_object_set_new(out, "id", kith_eng_str_or_null(row, "id"));
    json_object_set_new(out, "program", kith_eng_str_or_null(row, "program"));
    json_object_set_new(out, "participant", kith_eng_str_or_null(row, "participant"));
    json_object_set_new(out, "moment", kith_eng_str_or_null(row, "moment"));
    json_object_set_new(out, "type", kith_eng_str_or_null(row, "type"));
    json_object_set_new(out, "asked_at", kith_eng_time_or_null(row, "asked_at"));
    json_object_set_new(out, "answer_by", kith_eng_time_or_null(row, "answer_by"));
    json_object_set_new(out, "answered",
                        state == KITH_ASK_ANSWERED  ? json_true()
                        : state == KITH_ASK_IGNORED ? json_false()
                                                    : json_null());
    json_object_set_new(out, "answered_at",
                        state == KITH_ASK_ANSWERED ? kith_eng_time_or_null(row, "answered_at")
                                                   : json_null());
    json_object_set_new(out, "created_at", kith_eng_time_or_null(row, "created_at"));
    return out;
}

/* The ask as each channel carries it, every link tagged with its channel (as share.c does). */
static json_t *ask_messages(const struct kith_engine *eng, json_t *cfg, json_t *person,
                            const char *type)
{
    char tplbuf[64], base[1024];
    const char *tpl = kith_eng_ask_template(cfg, type, tplbuf, sizeof(tplbuf));
    const char *subject_t, *body_t;
    kith_eng_template_text(cfg, tpl, &subject_t, &body_t);
    snprintf(base, sizeof(base), "%s/r/%s", eng->public_url, kith_eng_row_str(person, "code"));
    const char *first = kith_eng_row_str(person, "first_name");
    json_t *messages = json_object();
    for (size_t i = 0; i < KITH_ARRAY_LEN(channels); i++) {
        char link[1100];
        snprintf(link, sizeof(link), "%s?ch=%s", base, channels[i]);
        struct kith_template_vars v = {
            .first_name = first && first[0] ? first : "there",
            .code = kith_eng_row_str(person, "code"),
            .share_url = link,
            .friend_first_name = "",
            .reward = "",
            .program_name = json_string_value(json_object_get(cfg, "name")),
        };
        char *body = kith_template_render(body_t, &v, false);
        if (i == 0) {
            char *subject = kith_template_render(subject_t ? subject_t : "", &v, true);
            json_object_set_new(messages, "email",
                                json_pack("{s:s,s:s}", "subject", subject, "body", body));
            free(subject);
        } else {
            json_object_set_new(messages, channels[i], json_string(body));
        }
        free(body);
    }
    return messages;
}

/* The answer for a moment: the moment, and the ask decision with its messages. */
static json_t *answer(const struct kith_engine *eng, json_t *cfg, json_t *moment, json_t *person)
{
    bool asked = strcmp(kith_eng_row_str(moment, "decision"), "ask") == 0;
    json_t *m = json_object();
    json_object_set_new(m, "id", kith_eng_str_or_null(moment, "id"));
    json_object_set_new(m, "type", kith_eng_str_or_null(moment, "type"));
    json_object_set_new(m, "participant", kith_eng_str_or_null(moment, "participant"));
    json_object_set_new(m, "occurred_at", kith_eng_time_or_null(moment, "occurred_at"));
    json_t *a = json_object();
    json_object_set_new(a, "decision", json_string(asked ? "ask" : "skip"));
    json_object_set_new(a, "reason", kith_eng_str_or_null(moment, "reason"));
    json_object_set_new(a, "id", kith_eng_str_or_null(moment, "ask"));
    json_object_set_new(a, "messages",
                        asked ? ask_messages(eng, cfg, person, kith_eng_row_str(moment, "type"))
                              : json_null());
    return json_pack("{s:o,s:o}", "moment", m, "ask", a);
}

/* One integer column of a one-row query; args is stolen. */
static enum kith_status query_one_int(struct kith_tx *tx, enum kith_query q, json_t *args,
                                      const char *col, int64_t *out, bool *null_out)
{
    json_t *row = NULL;
    enum kith_status st = kith_store_query_one(tx, q, args, &row);
    json_decref(args);
    if (st == KITH_OK) {
        *null_out = kith_eng_row_is_null(row, col);
        *out = kith_eng_row_int(row, col);
    }
    json_decref(row);
    return st;
}

/* What the rules look at, read for person and a moment at at_ms. */
static enum kith_status gather(struct kith_tx *tx, const struct kith_ask_policy *pol,
                               json_t *person, int64_t at_ms, struct kith_ask_past *recent,
                               struct kith_ask_facts *f)
{
    const char *id = kith_eng_row_str(person, "id");
    json_t *rows = NULL;
    size_t want = pol->stop_after_ignored > 0 ? pol->stop_after_ignored : 1;
    if (want > RECENT_MAX)
        want = RECENT_MAX;
    json_t *args = json_pack("[sII]", id, (json_int_t)at_ms, (json_int_t)want);
    enum kith_status st = kith_store_query(tx, KITH_Q_ASKS_RECENT, args, &rows);
    json_decref(args);
    if (st != KITH_OK)
        return st;
    size_t i;
    json_t *r;
    f->nrecent = 0;
    json_array_foreach(rows, i, r)
    {
        if (f->nrecent == want)
            break;
        recent[f->nrecent++] = (struct kith_ask_past){
            kith_eng_row_int(r, "asked_at"), kith_eng_row_int(r, "answer_by"),
            kith_eng_row_is_null(r, "answered_at") ? -1 : kith_eng_row_int(r, "answered_at")};
    }
    json_decref(rows);
    f->recent = recent;
    int64_t n = 0, last = 0;
    bool none = false;
    if ((st = query_one_int(
             tx, KITH_Q_ASKS_IN_WINDOW,
             json_pack("[sII]", id,
                       (json_int_t)(at_ms - KITH_ASKS_CAP_WINDOW_DAYS * KITH_ASKS_DAY_MS),
                       (json_int_t)at_ms),
             "n", &n, &none)) != KITH_OK ||
        (st = query_one_int(tx, KITH_Q_ASKS_LAST_CLICK, json_pack("[sI]", id, (json_int_t)at_ms),
                            "at", &last, &none)) != KITH_OK)
        return st;
    f->asks_in_cap_window = (uint32_t)n;
    f->last_click_ms = none ? -1 : last;
    const char *status = kith_eng_row_str(person, "status");
    f->blocked = status == NULL || strcmp(status, "active") != 0;
    f->erased = kith_eng_row_int(person, "erased") != 0;
    const char *pref = kith_eng_row_str(person, "pref_asks");
    if (!kith_ask_pref_parse(pref ? pref : "normal", &f->pref))
        f->pref = KITH_ASK_PREF_NORMAL;
    f->joined_ms = kith_eng_row_int(person, "created_at");
    f->moment_ms = at_ms;
    return KITH_OK;
}

/* Records the ask for moment, answered at once when a counted click is already in its window
 * (a moment reported after the fact), notes it and emits ask.created. */
static enum kith_status record_ask(struct kith_tx *tx, struct kith_call *call, json_t *cfg,
                                   const struct kith_ask_policy *pol, json_t *person,
                                   const char *ask_id, const char *moment_id, const char *type,
                                   int64_t at_ms)
{
    const char *pid = kith_eng_row_str(person, "id");
    int64_t answer_by = kith_ask_answer_by(pol, at_ms), first = 0;
    bool none = true;
    enum kith_status st = query_one_int(
        tx, KITH_Q_ASKS_FIRST_CLICK,
        json_pack("[sII]", pid, (json_int_t)at_ms, (json_int_t)answer_by), "at", &first, &none);
    if (st != KITH_OK)
        return st;
    json_t *row = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I}", "id", ask_id, "program",
                            kith_eng_row_str(person, "program"), "participant", pid, "moment",
                            moment_id, "type", type, "asked_at", (json_int_t)at_ms, "answer_by",
                            (json_int_t)answer_by, "created_at", (json_int_t)call->now_ms);
    json_object_set_new(row, "answered_at", none ? json_null() : json_integer(first));
    st = kith_store_insert(tx, "asks", row);
    char tplbuf[64];
    struct kith_eng_note note = {
        .tpl = kith_eng_ask_template(cfg, type, tplbuf, sizeof(tplbuf)),
        .stage = "ask",
    };
    if (st == KITH_OK)
        st = kith_eng_note_keep(tx, call->eng, cfg, person, &note, call->now_ms);
    if (st == KITH_OK && kith_eng_outbox_wanted(tx))
        st = kith_eng_outbox_emit(tx, "ask.created", render_ask(row, call->now_ms), call->now_ms);
    json_decref(row);
    return st;
}

static enum kith_status replay(struct kith_tx *tx, struct kith_call *call, json_t *cfg,
                               json_t *moment, json_t **out, struct kith_err *err)
{
    json_t *person = NULL;
    enum kith_status st = kith_eng_load_row(
        tx, "participants", kith_eng_row_str(moment, "participant"), "participant", &person, err);
    if (st != KITH_OK)
        return st;
    *out = answer(call->eng, cfg, moment, person);
    json_decref(person);
    return KITH_OK;
}

enum kith_status kith_op_moment_create(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                       struct kith_err *err)
{
    const char *program = NULL, *ext = NULL, *type = NULL, *provider = NULL;
    int64_t score = 0, at_ms = call->now_ms;
    bool has_score = false;
    struct prog p;
    json_t *person = NULL, *cfg = NULL, *moment = NULL, *args = NULL;
    json_t *body = call->body;
    enum kith_status st;
    if ((st = kith_eng_in_allowed(body, moment_fields, err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "program", false, 1, 40, &program, err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "external_id", true, 1, 255, &ext, err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "type", true, 1, 40, &type, err)) != KITH_OK ||
        (st = kith_eng_in_int(body, "score", 0, 10, &score, &has_score, err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "id", false, 1, 255, &provider, err)) != KITH_OK ||
        (st = kith_eng_in_time(body, "occurred_at", &at_ms, NULL, err)) != KITH_OK)
        return st;
    if (!kith_ask_moment_type_valid(type))
        return kith_err_set(err, KITH_E_INVALID_PARAM, "type",
                            "'type' must be purchase, milestone, nps, review, support_resolved "
                            "or match [a-z0-9_.]{1,40}");
    bool nps = strcmp(type, "nps") == 0;
    if (nps && !has_score)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "score",
                            "an nps moment needs its 'score' (0-10)");
    if (!nps && has_score)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "score", "'score' is only for nps moments");
    if ((st = kith_eng_prog_resolve(tx, program, &p, err)) != KITH_OK)
        return st;
    if ((st = kith_eng_prog_config(tx, p.id, &cfg)) != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not read the program");
    if ((st = kith_eng_participant_by_external(tx, p.id, ext, &person)) != KITH_OK) {
        st = st == KITH_E_NOT_FOUND
                 ? kith_err_set(err, st, "external_id", "no participant with this external_id")
                 : kith_err_set(err, st, NULL, "the database could not read the participant");
        goto out;
    }
    if (provider) {
        args = json_pack("[ss]", p.id, provider);
        st = kith_store_query_one(tx, KITH_Q_ASKS_MOMENT_BY_PROVIDER, args, &moment);
        json_decref(args);
        if (st == KITH_OK) {
            st = replay(tx, call, cfg, moment, out, err);
            goto out;
        }
        if (st != KITH_E_NOT_FOUND) {
            st = kith_err_set(err, st, NULL, "the database could not read moments");
            goto out;
        }
    }
    /* One decision at a time per person: two moments at once must not both see "no ask yet". */
    json_t *locked = NULL;
    if ((st = kith_eng_load_locked(tx, "participants", kith_eng_row_str(person, "id"),
                                   "participant", &locked, err)) != KITH_OK)
        goto out;
    json_decref(person);
    person = locked;

    struct kith_ask_policy pol;
    struct kith_ask_past recent[RECENT_MAX];
    struct kith_ask_facts facts = {0};
    kith_eng_asks_policy(cfg, &pol);
    if ((st = gather(tx, &pol, person, at_ms, recent, &facts)) != KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not read the person's asks");
        goto out;
    }
    facts.nps = nps;
    facts.score = (int)score;
    enum kith_ask_reason reason = kith_ask_decide(&pol, &facts);

    char id[KITH_ID_MAX], ask_id[KITH_ID_MAX];
    kith_crypto_random_id("mom_", id);
    kith_crypto_random_id("ask_", ask_id);
    bool asked = reason == KITH_ASK_REASON_NONE;
    moment =
        json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:s}", "id", id, "program", p.id, "participant",
                  kith_eng_row_str(person, "id"), "type", type, "occurred_at", (json_int_t)at_ms,
                  "created_at", (json_int_t)call->now_ms, "decision", asked ? "ask" : "skip");
    json_object_set_new(moment, "score", has_score ? json_integer(score) : json_null());
    json_object_set_new(moment, "provider_id", provider ? json_string(provider) : json_null());
    json_object_set_new(moment, "reason",
                        asked ? json_null() : json_string(kith_ask_reason_name(reason)));
    json_object_set_new(moment, "ask", asked ? json_string(ask_id) : json_null());
    if ((st = kith_store_insert(tx, "moments", moment)) != KITH_OK) {
        if (st == KITH_E_CONSTRAINT && provider) {
            /* The same moment committed meanwhile (another instance): its answer. */
            json_decref(moment);
            moment = NULL;
            args = json_pack("[ss]", p.id, provider);
            st = kith_store_query_one(tx, KITH_Q_ASKS_MOMENT_BY_PROVIDER, args, &moment);
            json_decref(args);
            if (st == KITH_OK) {
                st = replay(tx, call, cfg, moment, out, err);
                goto out;
            }
        }
        st = kith_err_set(err, st == KITH_E_CONSTRAINT ? KITH_E_UNAVAILABLE : st, NULL,
                          "the database could not store the moment");
        goto out;
    }
    if (asked &&
        (st = record_ask(tx, call, cfg, &pol, person, ask_id, id, type, at_ms)) != KITH_OK) {
        st = kith_err_set(err, st, NULL, "the database could not store the ask");
        goto out;
    }
    *out = answer(call->eng, cfg, moment, person);
    st = KITH_CREATED;
out:
    json_decref(person);
    json_decref(cfg);
    json_decref(moment);
    return st;
}

static json_t *render_ask_row(struct kith_tx *tx, void *ctx, json_t *row)
{
    (void)tx;
    return render_ask(row, *(const int64_t *)ctx);
}

enum kith_status kith_op_ask_list(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                  struct kith_err *err)
{
    static const char *const allowed[] = {"program", "participant", "limit", "cursor", NULL};
    char program[64], participant[64];
    bool has_program, has_participant;
    int64_t limit, after;
    json_t *rows = NULL;
    enum kith_status st;
    if ((st = kith_eng_q_allowed(call->query, allowed, err)) != KITH_OK ||
        (st = kith_eng_q_page(call->query, &limit, &after, err)) != KITH_OK ||
        (st = kith_eng_q_string(call->query, "program", program, sizeof(program), &has_program,
                                err)) != KITH_OK ||
        (st = kith_eng_q_string(call->query, "participant", participant, sizeof(participant),
                                &has_participant, err)) != KITH_OK)
        return st;
    json_t *args = json_array();
    json_array_append_new(args, json_integer(after));
    json_array_append_new(args, has_program ? json_string(program) : json_null());
    json_array_append_new(args, has_participant ? json_string(participant) : json_null());
    json_array_append_new(args, json_integer(limit + 1));
    st = kith_store_query(tx, KITH_Q_ASKS_LIST, args, &rows);
    json_decref(args);
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not list asks");
    int64_t now = call->now_ms;
    *out = kith_eng_list_page(rows, limit, render_ask_row, tx, &now);
    json_decref(rows);
    return KITH_OK;
}

enum kith_status kith_eng_asks_clicks(struct kith_tx *tx, const struct kith_click *const *clicks,
                                      size_t n)
{
    if (n == 0)
        return KITH_OK;
    json_t *list = json_array();
    int64_t first = clicks[0]->at_ms;
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(list, json_pack("{s:s,s:I}", "participant", clicks[i]->participant,
                                              "at", (json_int_t)clicks[i]->at_ms));
        if (clicks[i]->at_ms < first)
            first = clicks[i]->at_ms;
    }
    json_t *args = json_pack("[oI]", list, (json_int_t)first);
    enum kith_status st = kith_store_exec(tx, KITH_Q_ASKS_ANSWER_CLICKS, args, NULL);
    json_decref(args);
    return st;
}

/* The rows of q; args is stolen. */
static enum kith_status query_rows(struct kith_tx *tx, enum kith_query q, json_t *args,
                                   json_t **out)
{
    enum kith_status st = kith_store_query(tx, q, args, out);
    json_decref(args);
    return st;
}

/* The same, times as RFC 3339 like everywhere in the API. */
static enum kith_status export_rows(struct kith_tx *tx, enum kith_query q, json_t *args,
                                    json_t **out)
{
    json_t *rows = NULL;
    enum kith_status st = query_rows(tx, q, args, &rows);
    if (st != KITH_OK)
        return st;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        const char *key;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(r, tmp, key, v)
        {
            size_t len = strlen(key);
            if (len > 3 && strcmp(key + len - 3, "_at") == 0 && json_is_integer(v))
                json_object_set_new(r, key, kith_eng_time_json(json_integer_value(v)));
        }
    }
    *out = rows;
    return KITH_OK;
}

/* The person's entries among a spotlight's candidates: [{"category", "count"}]. */
static json_t *candidacies(json_t *row, const char *pid)
{
    json_t *cands = json_loads(kith_eng_row_str(row, "candidates"), 0, NULL), *out = json_array();
    const char *cat;
    json_t *list;
    json_object_foreach(cands, cat, list)
    {
        size_t i;
        json_t *c;
        json_array_foreach(list, i, c)
        {
            const char *who = kith_eng_row_str(c, "participant");
            if (who && strcmp(who, pid) == 0)
                json_array_append_new(out, json_pack("{s:s,s:s,s:s,s:s,s:O}", "spotlight",
                                                     kith_eng_row_str(row, "id"), "period",
                                                     kith_eng_row_str(row, "period"), "status",
                                                     kith_eng_row_str(row, "status"), "category",
                                                     cat, "count", json_object_get(c, "count")));
        }
    }
    json_decref(cands);
    return out;
}

enum kith_status kith_eng_asks_export(struct kith_tx *tx, json_t *person, int64_t now_ms,
                                      json_t *out)
{
    const char *pid = kith_eng_row_str(person, "id");
    json_t *moments = NULL, *asks = NULL, *prefs = NULL, *wins = NULL, *spots = NULL,
           *digests = NULL;
    enum kith_status st;
    if ((st = export_rows(tx, KITH_Q_ASKS_EXPORT_MOMENTS, json_pack("[s]", pid), &moments)) !=
            KITH_OK ||
        (st = query_rows(tx, KITH_Q_ASKS_EXPORT_ASKS, json_pack("[s]", pid), &asks)) != KITH_OK ||
        (st = export_rows(tx, KITH_Q_ASKS_EXPORT_PREFERENCES, json_pack("[s]", pid), &prefs)) !=
            KITH_OK ||
        (st = export_rows(tx, KITH_Q_ASKS_EXPORT_WINS, json_pack("[s]", pid), &wins)) != KITH_OK ||
        (st = query_rows(tx, KITH_Q_ASKS_EXPORT_CANDIDACIES,
                         json_pack("[ss]", kith_eng_row_str(person, "program"), pid), &spots)) !=
            KITH_OK ||
        (st = export_rows(tx, KITH_Q_ASKS_EXPORT_DIGESTS, json_pack("[s]", pid), &digests)) !=
            KITH_OK)
        goto out;
    size_t i;
    json_t *r;
    json_t *asks_out = json_array(), *cands = json_array();
    json_array_foreach(asks, i, r) json_array_append_new(asks_out, render_ask(r, now_ms));
    json_array_foreach(spots, i, r)
    {
        json_t *mine = candidacies(r, pid);
        json_array_extend(cands, mine);
        json_decref(mine);
    }
    json_object_set_new(out, "moments", json_incref(moments));
    json_object_set_new(out, "asks", asks_out);
    json_object_set_new(out, "preference_changes", json_incref(prefs));
    json_object_set_new(out, "spotlights", json_pack("{s:O,s:o}", "won", wins, "candidate", cands));
    json_object_set_new(out, "digests", json_incref(digests));
out:
    json_decref(moments);
    json_decref(asks);
    json_decref(prefs);
    json_decref(wins);
    json_decref(spots);
    json_decref(digests);
    return st;
}

enum kith_status kith_eng_asks_erase(struct kith_tx *tx, const char *participant)
{
    json_t *args = json_pack("[s]", participant);
    enum kith_status st = kith_store_exec(tx, KITH_Q_ASKS_ERASE_NOTES, args, NULL);
    json_decref(args);
    return st;
}
