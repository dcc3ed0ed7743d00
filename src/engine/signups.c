/*
 * signups.c: a person arrives (CONTRACT section 5). Gathers the facts behind each candidate
 * source (the `ref` the signup page saw, the typed code, the click behind the cookie), lets the
 * attribution rules decide, and writes the new participant and the referral in one transaction.
 * The unique constraints on (program, external_id) and (program, referred) make a repeated or
 * concurrent signup of the same person land once.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/health.h"
#include "engine/internal.h"
#include "engine/tracks.h"
#include "kith/attribution.h"
#include "kith/codes.h"
#include "kith/crypto.h"

static const char *const signup_fields[] = {"program",
                                            "external_id",
                                            "email",
                                            "first_name",
                                            "ref",
                                            "click_id",
                                            "code",
                                            "ip",
                                            "user_agent",
                                            "device_id",
                                            "payment_fingerprint",
                                            "occurred_at",
                                            "leaderboard_opt_in",
                                            "metadata",
                                            NULL};

/* What one candidate pointed at, kept for writing the referral. */
struct found {
    json_t *row; /* codes.find or clicks.find row, or NULL */
    char code[16];
};

static void facts_from(json_t *row, const struct prog *p, struct kith_attr_facts *f)
{
    f->found = true;
    f->same_program = strcmp(kith_eng_row_str(row, "program"), p->id) == 0;
    f->referrer_blocked = strcmp(kith_eng_row_str(row, "status"), "active") != 0 ||
                          kith_eng_row_int(row, "erased") != 0;
    f->referrer_external_id = kith_eng_row_str(row, "external_id");
    f->referrer_email_norm = kith_eng_row_str(row, "email_norm");
}

static enum kith_status find_code(struct kith_tx *tx, const char *typed, const struct prog *p,
                                  int64_t at_ms, struct kith_attr_facts *f, struct found *fd)
{
    char norm[KITH_CODE_NORM_MAX + 1];
    f->present = true;
    f->at_ms = at_ms;
    if (!kith_code_normalize(typed, norm))
        return KITH_OK; /* cannot match any code: unknown_code */
    json_t *args = json_pack("[s]", norm);
    enum kith_status st = kith_store_query_one(tx, KITH_Q_CODES_FIND, args, &fd->row);
    json_decref(args);
    if (st == KITH_E_NOT_FOUND)
        return KITH_OK;
    if (st != KITH_OK)
        return st;
    facts_from(fd->row, p, f);
    kith_strlcpy(fd->code, kith_eng_row_str(fd->row, "matched"), sizeof(fd->code));
    return KITH_OK;
}

static enum kith_status find_click(struct kith_tx *tx, const char *click_id, const struct prog *p,
                                   struct kith_attr_facts *f, struct found *fd)
{
    f->present = true;
    json_t *args = json_pack("[s]", click_id);
    enum kith_status st = kith_store_query_one(tx, KITH_Q_CLICKS_FIND, args, &fd->row);
    json_decref(args);
    if (st == KITH_E_NOT_FOUND)
        return KITH_OK;
    if (st != KITH_OK)
        return st;
    facts_from(fd->row, p, f);
    f->at_ms = kith_eng_row_int(fd->row, "click_at");
    kith_strlcpy(fd->code, kith_eng_row_str(fd->row, "matched"), sizeof(fd->code));
    return KITH_OK;
}

/* The answer for a person who exists: their row and referral, no new effect. */
static enum kith_status answer_existing(struct kith_tx *tx, struct kith_call *call, json_t *row,
                                        json_t **out, struct kith_err *err)
{
    json_t *ref = NULL, *args = json_pack("[s]", kith_eng_row_str(row, "id"));
    enum kith_status st = kith_store_query_one(tx, KITH_Q_REFERRALS_OF_REFERRED, args, &ref);
    json_decref(args);
    if (st != KITH_OK && st != KITH_E_NOT_FOUND)
        return kith_err_set(err, st, NULL, "the database could not read the referral");
    *out = json_object();
    json_object_set_new(*out, "participant", kith_eng_render_participant(tx, call->eng, row));
    json_object_set_new(*out, "referral", ref ? kith_eng_render_referral(tx, ref) : json_null());
    json_object_set_new(*out, "attribution",
                        json_pack("{s:s,s:[]}", "source",
                                  ref ? kith_eng_row_str(ref, "source") : "organic", "rejected"));
    json_decref(ref);
    return KITH_OK;
}

enum kith_status kith_op_signup(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                struct kith_err *err)
{
    const char *program = NULL, *ref = NULL, *click_id = NULL, *typed = NULL, *ua = NULL;
    int64_t at_ms = call->now_ms;
    bool opt_in = false;
    struct prog p;
    struct found fd[KITH_ATTR_SOURCES] = {{0}};
    json_t *fields = json_object(), *existing = NULL, *person = NULL, *referral = NULL;
    json_t *w_row = NULL; /* the winning referrer's row */
    enum kith_status st;
    json_t *body = call->body;

    if ((st = kith_eng_in_allowed(body, signup_fields, err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "program", false, 1, 40, &program, err)) != KITH_OK ||
        (st = kith_eng_participant_fields(body, call->eng, fields, err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "ref", false, 1, 64, &ref, err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "click_id", false, 1, 64, &click_id, err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "code", false, 1, 64, &typed, err)) != KITH_OK ||
        (st = kith_eng_in_string(body, "user_agent", false, 0, 1024, &ua, err)) != KITH_OK ||
        (st = kith_eng_in_time(body, "occurred_at", &at_ms, NULL, err)) != KITH_OK ||
        (st = kith_eng_in_bool(body, "leaderboard_opt_in", &opt_in, NULL, err)) != KITH_OK)
        goto out;
    if ((st = kith_eng_metadata_field(body, fields, err)) != KITH_OK)
        goto out;
    if ((st = kith_eng_prog_resolve(tx, program, &p, err)) != KITH_OK)
        goto out;
    const char *ext = kith_eng_row_str(fields, "external_id");

    st = kith_eng_participant_by_external(tx, p.id, ext, &existing);
    if (st == KITH_OK) {
        st = answer_existing(tx, call, existing, out, err);
        goto out;
    }
    if (st != KITH_E_NOT_FOUND) {
        st = kith_err_set(err, st, NULL, "the database could not read participants");
        goto out;
    }

    struct kith_attr_input in = {0};
    in.external_id = ext;
    in.email_norm = kith_eng_row_str(fields, "email_norm");
    in.now_ms = at_ms;
    in.window_ms = p.window_days * KITH_MS_PER_DAY;
    if ((ref && (st = find_code(tx, ref, &p, at_ms, &in.cand[KITH_ATTR_URL], &fd[KITH_ATTR_URL])) !=
                    KITH_OK) ||
        (typed && (st = find_code(tx, typed, &p, at_ms, &in.cand[KITH_ATTR_CODE],
                                  &fd[KITH_ATTR_CODE])) != KITH_OK) ||
        (click_id && (st = find_click(tx, click_id, &p, &in.cand[KITH_ATTR_COOKIE],
                                      &fd[KITH_ATTR_COOKIE])) != KITH_OK) ||
        (in.email_norm && (st = kith_eng_lead_candidate(
                               tx, &p, in.email_norm, &in.cand[KITH_ATTR_LEAD],
                               &fd[KITH_ATTR_LEAD].row, fd[KITH_ATTR_LEAD].code)) != KITH_OK)) {
        st = kith_err_set(err, st, NULL, "the database could not resolve the referral");
        goto out;
    }
    struct kith_attr_result res;
    kith_attribution_decide(&in, &res);

    char referral_id[KITH_ID_MAX] = "";
    if (res.winner != KITH_ATTR_ORGANIC) {
        kith_crypto_random_id("ref_", referral_id);
        json_object_set_new(fields, "referred_by", json_string(referral_id));
    }
    json_object_set_new(fields, "leaderboard_opt_in", json_boolean(opt_in));
    st = kith_eng_participant_insert(tx, call->eng, &p, fields, at_ms, &person, err);
    if (st == KITH_E_CONSTRAINT) {
        /* Raced with another signup of the same person: theirs counts. */
        if ((st = kith_eng_participant_by_external(tx, p.id, ext, &existing)) != KITH_OK) {
            st = kith_err_set(err, st, NULL, "the database could not read participants");
            goto out;
        }
        st = answer_existing(tx, call, existing, out, err);
        goto out;
    }
    if (st != KITH_OK)
        goto out;

    if (res.winner != KITH_ATTR_ORGANIC) {
        struct found *w = &fd[res.winner];
        w_row = w->row;
        json_t *click =
            res.winner == KITH_ATTR_COOKIE || res.winner == KITH_ATTR_LEAD ? w->row : NULL;
        /* A url or typed win backed by this referrer's own click keeps that click's channel. */
        if (click == NULL && res.reason[KITH_ATTR_COOKIE] == KITH_ATTR_ACCEPTED &&
            strcmp(kith_eng_row_str(fd[KITH_ATTR_COOKIE].row, "participant"),
                   kith_eng_row_str(w->row, "participant")) == 0)
            click = fd[KITH_ATTR_COOKIE].row;
        referral = json_object();
        json_object_set_new(referral, "id", json_string(referral_id));
        json_object_set_new(referral, "program", json_string(p.id));
        json_object_set_new(referral, "referrer",
                            json_string(kith_eng_row_str(w->row, "participant")));
        json_object_set_new(referral, "referred", json_string(kith_eng_row_str(person, "id")));
        json_object_set_new(referral, "code", json_string(w->code));
        json_object_set_new(referral, "source", json_string(kith_attr_source_name(res.winner)));
        json_object_set_new(referral, "channel",
                            click && kith_eng_row_str(click, "channel")
                                ? json_string(kith_eng_row_str(click, "channel"))
                                : json_null());
        json_object_set_new(referral, "click",
                            click ? json_string(kith_eng_row_str(click, "click_id")) : json_null());
        /* CONTRACT 19: the lead's resource, or the resource link the click was on. */
        const char *resource = res.winner == KITH_ATTR_LEAD
                                   ? kith_eng_row_str(w->row, "lead_resource")
                               : click ? kith_eng_row_str(click, "click_resource")
                                       : NULL;
        json_object_set_new(referral, "resource", resource ? json_string(resource) : json_null());
        unsigned flags = 0;
        const char *host = click ? kith_eng_row_str(click, "referrer_host") : NULL;
        if (!call->eng->fraud_off &&
            (st = kith_eng_score_referral(tx, call->eng, &p, w->row, person, host, at_ms,
                                          call->now_ms, referral, &flags, err)) != KITH_OK)
            goto out;
        json_object_set_new(referral, "status", json_string(kith_eng_verdict_status(&p, flags)));
        json_object_set_new(referral, "fraud_score", json_integer(kith_fraud_score(flags)));
        json_t *fl = kith_eng_flags_json(flags);
        char *fl_text = json_dumps(fl, JSON_COMPACT);
        json_decref(fl);
        json_object_set_new(referral, "fraud_flags", json_string(fl_text));
        free(fl_text);
        json_object_set_new(referral, "created_at", json_integer(at_ms));
        json_object_set_new(referral, "expires_at",
                            json_integer(at_ms + p.within_days * KITH_MS_PER_DAY));
        json_object_set_new(referral, "updated_at", json_integer(call->now_ms));
        st = kith_store_insert(tx, "referrals", referral);
        if (st != KITH_OK) {
            st = kith_err_set(err, st == KITH_E_CONSTRAINT ? KITH_E_UNAVAILABLE : st, NULL,
                              "the database could not store the referral");
            goto out;
        }
        /* The row as written is the row as stored: no need to read it back. */
    }
    /* Leads left with this e-mail are people now (CONTRACT 19). */
    if (in.email_norm &&
        (st = kith_eng_leads_converted(tx, p.id, in.email_norm, kith_eng_row_str(person, "id"),
                                       call->now_ms)) != KITH_OK)
        goto fail_write;
    if (kith_eng_outbox_wanted(tx) &&
        (st = kith_eng_outbox_emit(tx, "participant.created",
                                   kith_eng_render_participant(tx, call->eng, person),
                                   call->now_ms)) != KITH_OK)
        goto fail_write;
    if (referral) {
        const char *status = kith_eng_row_str(referral, "status");
        if ((st = kith_eng_outbox_referral(tx, referral_id, "referral.created", call->now_ms)) !=
            KITH_OK)
            goto fail_write;
        if (strcmp(status, "pending") != 0) {
            char type[32];
            snprintf(type, sizeof(type), "referral.%s", status);
            if ((st = kith_eng_outbox_referral(tx, referral_id, type, call->now_ms)) != KITH_OK)
                goto fail_write;
        } else if ((st = kith_eng_notify_created(tx, call->eng, referral, w_row, person,
                                                 call->now_ms)) != KITH_OK) {
            goto fail_write;
        }
        if ((st = kith_eng_adv_referral_created(tx, call->eng, referral, call->now_ms)) != KITH_OK)
            goto fail_write; /* the referrer's tracks (section 15) */
        if ((st = kith_eng_health_referral_created(tx, referral)) != KITH_OK)
            goto fail_write; /* health rollups, the experiment's variant (22, 23) */
    }

    json_t *rejected = json_array();
    for (int s = 0; s < KITH_ATTR_SOURCES; s++) {
        const char *reason = kith_attr_reject_name(res.reason[s]);
        if (reason)
            json_array_append_new(rejected,
                                  json_pack("{s:s,s:s}", "source",
                                            kith_attr_source_name((enum kith_attr_source)s),
                                            "reason", reason));
    }
    *out = json_object();
    json_object_set_new(*out, "participant",
                        kith_eng_render_new_participant(tx, call->eng, person));
    json_object_set_new(*out, "referral",
                        referral ? kith_eng_render_referral_rows(referral, w_row, person)
                                 : json_null());
    json_object_set_new(
        *out, "attribution",
        json_pack("{s:s,s:o}", "source", kith_attr_source_name(res.winner), "rejected", rejected));
    st = KITH_CREATED;
    goto out;
fail_write:
    st = kith_err_set(err, st, NULL, "the database could not store the signup");
out:
    for (int s = 0; s < KITH_ATTR_SOURCES; s++)
        json_decref(fd[s].row);
    json_decref(fields);
    json_decref(existing);
    json_decref(person);
    json_decref(referral);
    return st;
}
