/*
 * payouts.c: the payout queue (CONTRACT section 25). A reward whose program fulfils its kind by
 * `payout` waits in `fulfilments` until the owner pays it: GET /v1/payouts.csv hands over a
 * batch in PayPal Payouts' layout (no header row; email, amount in major units, currency, the
 * reward's id as the reference, a note), and POST /v1/payouts/mark_paid marks the batch paid,
 * which redeems each reward through the reward writer (its hook marks the payout done). It is
 * not for paying anyone: kith never moves money itself.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/fulfil.h"
#include "kith/buf.h"

#define PAYOUTS_CSV_MAX 5000 /* PayPal takes at most 5,000 payments per file */
#define MARK_PAID_MAX 500

static const char *const csv_statuses[] = {"pending", "done", NULL};

enum kith_status kith_op_payouts_csv(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                     struct kith_err *err)
{
    static const char *const allowed[] = {"program", "status", "limit", NULL};
    char program[64] = "", status[16] = "pending", limit_text[16] = "";
    bool has_program = false, has_status = false, has_limit = false;
    struct prog p;
    enum kith_status st;
    (void)out;
    if ((st = kith_eng_q_allowed(call->query, allowed, err)) != KITH_OK ||
        (st = kith_eng_q_string(call->query, "program", program, sizeof(program), &has_program,
                                err)) != KITH_OK ||
        (st = kith_eng_q_string(call->query, "status", status, sizeof(status), &has_status, err)) !=
            KITH_OK ||
        (st = kith_eng_q_string(call->query, "limit", limit_text, sizeof(limit_text), &has_limit,
                                err)) != KITH_OK)
        return st;
    bool known = false;
    for (size_t i = 0; csv_statuses[i]; i++)
        known = known || strcmp(status, csv_statuses[i]) == 0;
    if (!known)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "status", "'status' is pending or done");
    int64_t limit = PAYOUTS_CSV_MAX;
    if (has_limit) {
        char *end = NULL;
        long long v = strtoll(limit_text, &end, 10);
        if (end == limit_text || *end || v < 1 || v > PAYOUTS_CSV_MAX)
            return kith_err_set(err, KITH_E_INVALID_PARAM, "limit", "'limit' is 1..%d",
                                PAYOUTS_CSV_MAX);
        limit = v;
    }
    if ((st = kith_eng_prog_resolve(tx, has_program ? program : NULL, &p, err)) != KITH_OK)
        return st;
    json_t *rows = NULL, *args = json_pack("[ssI]", p.id, status, (json_int_t)limit);
    st = kith_store_query(tx, KITH_Q_FUL_PAYOUTS, args, &rows);
    json_decref(args);
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not list payouts");
    struct kith_buf csv = {0};
    char note[320];
    snprintf(note, sizeof(note), "%s referral reward", p.name);
    for (char *c = note; *c; c++) {
        if (*c == '\r' || *c == '\n')
            *c = ' ';
    }
    kith_buf_str(&csv, "");
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        const char *email = kith_eng_row_str(r, "email");
        /* A pending payout is paid only while its reward stands: issued, not past its expiry,
         * and to someone with an address (an erased person has none). */
        if (strcmp(status, "pending") == 0 &&
            (email == NULL || strcmp(kith_eng_row_str(r, "reward_status"), "issued") != 0 ||
             (!kith_eng_row_is_null(r, "expires_at") &&
              kith_eng_row_int(r, "expires_at") <= call->now_ms)))
            continue;
        char amount[32];
        kith_fulfil_major_units(kith_eng_row_int(r, "amount"), kith_eng_row_str(r, "currency"),
                                amount);
        kith_fulfil_csv_field(&csv, email);
        kith_buf_str(&csv, ",");
        kith_buf_str(&csv, amount);
        kith_buf_str(&csv, ",");
        kith_fulfil_csv_field(&csv, kith_eng_row_str(r, "currency"));
        kith_buf_str(&csv, ",");
        kith_fulfil_csv_field(&csv, kith_eng_row_str(r, "id"));
        kith_buf_str(&csv, ",");
        kith_fulfil_csv_field(&csv, note);
        kith_buf_str(&csv, "\r\n");
    }
    json_decref(rows);
    call->text_out = kith_buf_take(&csv);
    call->text_type = "text/csv; charset=utf-8";
    snprintf(call->text_filename, sizeof(call->text_filename), "payouts-%s-%s.csv", p.id, status);
    return KITH_OK;
}

static int compare_ids(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

enum kith_status kith_op_payouts_mark_paid(struct kith_tx *tx, struct kith_call *call, json_t **out,
                                           struct kith_err *err)
{
    static const char *const allowed[] = {"rewards", NULL};
    enum kith_status st = kith_eng_in_allowed(call->body, allowed, err);
    if (st != KITH_OK)
        return st;
    json_t *list = json_object_get(call->body, "rewards");
    if (!json_is_array(list) || json_array_size(list) < 1 || json_array_size(list) > MARK_PAID_MAX)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "rewards",
                            "'rewards' is an array of 1 to %d reward ids", MARK_PAID_MAX);
    size_t n = json_array_size(list), i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (!json_is_string(v) || json_string_length(v) < 1 || json_string_length(v) > 64) {
            char param[32];
            snprintf(param, sizeof(param), "rewards[%zu]", i);
            return kith_err_set(err, KITH_E_INVALID_PARAM, param, "each entry is a reward id");
        }
    }
    /* One order for every writer of several rewards, so two batches never wait on each other. */
    const char **ids = calloc(n, sizeof(*ids));
    if (ids == NULL)
        abort();
    json_array_foreach(list, i, v) ids[i] = json_string_value(v);
    qsort(ids, n, sizeof(*ids), compare_ids);
    /* First every reward as time has made it (an expiry that came due stays, even when the
     * batch is refused), then the payments: all or none. */
    json_t *rewards = json_array(), *done = json_array();
    bool moved = false;
    for (i = 0; i < n && st == KITH_OK; i++) {
        if (i > 0 && strcmp(ids[i], ids[i - 1]) == 0)
            continue;
        json_t *reward = NULL, *f = NULL;
        st = kith_eng_load_locked(tx, "rewards", ids[i], "reward", &reward, err);
        if (st == KITH_E_NOT_FOUND)
            kith_strlcpy(err->param, "rewards", sizeof(err->param));
        if (st == KITH_OK) {
            enum kith_status fst = kith_store_get_locked(tx, "fulfilments", ids[i], &f);
            const char *method = f ? kith_eng_row_str(f, "method") : "none";
            if (fst != KITH_OK && fst != KITH_E_NOT_FOUND)
                st = kith_err_set(err, fst, NULL, "the database could not read the payout");
            else if (strcmp(method, "payout") != 0)
                st = kith_err_set(err, KITH_E_INVALID_STATE, "rewards",
                                  "%s is not a payout (its fulfilment is %s)", ids[i], method);
        }
        if (st == KITH_OK && strcmp(kith_eng_row_str(f, "status"), "done") != 0) {
            bool issued = strcmp(kith_eng_row_str(reward, "status"), "issued") == 0;
            st = kith_eng_reward_expire_due(tx, call->eng, reward, call->now_ms, err);
            moved = moved || (issued && strcmp(kith_eng_row_str(reward, "status"), "issued") != 0);
            if (st == KITH_OK && strcmp(kith_eng_row_str(reward, "status"), "issued") != 0)
                st = kith_err_set(err, KITH_E_INVALID_STATE, "rewards", "%s is %s: it is not paid",
                                  ids[i], kith_eng_row_str(reward, "status"));
            if (st == KITH_OK)
                json_array_append(rewards, reward); /* to pay */
        }
        if (st == KITH_OK && f && strcmp(kith_eng_row_str(f, "status"), "done") == 0)
            json_array_append(done, reward); /* paid before: answered as it is */
        json_decref(reward);
        json_decref(f);
    }
    free(ids);
    json_t *r;
    json_array_foreach(rewards, i, r)
    {
        if (st != KITH_OK)
            break;
        /* Checked above, under the row's lock: a refusal here is the engine's bug. */
        st = kith_eng_move_checked(
            kith_eng_reward_move(tx, call->eng, r, KITH_REWARD_REDEEMED, call->now_ms, err),
            "mark_paid", err);
        json_array_append(done, r);
    }
    json_decref(rewards);
    if (st != KITH_OK) {
        json_decref(done);
        if (st == KITH_E_INVALID_STATE && moved)
            call->keeps_due_moves = true;
        return st;
    }
    json_t *shown = json_array();
    json_array_foreach(done, i, r) json_array_append_new(shown, kith_eng_render_reward(tx, r));
    json_decref(done);
    *out = json_pack("{s:o}", "rewards", shown);
    return KITH_OK;
}
