/*
 * fulfil_stripe.c: the store side of kith's Stripe calls for reward fulfilment (CONTRACT section
 * 25). A fulfilment is a short chain of calls (find the customer, create the balance
 * transaction; create the coupon, then its promotion code; read the subscription, then push its
 * trial out). Each call is claimed in one transaction (the row becomes `sending` with a lease,
 * the request and its Idempotency-Key are fixed and stored before anything leaves), made by the
 * app's sender outside any transaction, and its answer recorded in another, which moves the
 * chain on, schedules a retry on the webhook schedule (no answer, 409, 429, 5xx) or ends it.
 *
 * A reward is never fulfilled twice: every retry of a call resends the stored request under the
 * same key, so Stripe replays its first answer instead of acting again (a process killed
 * mid-call included: its lease runs out and the call is claimed again). A new key is used only
 * after a lookup found nothing with the reward's metadata on Stripe's side: after a manual
 * retry of a failed fulfilment (`verify`), and when a key is older than Stripe keeps keys (24 h).
 * It is not for deciding when a fulfilment starts (fulfil.c) or for HTTP (src/app/fulfil.c).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/fulfil.h"
#include "kith/buf.h"
#include "kith/crypto.h"
#include "kith/text.h"
#include "kith/webhooks.h"

#define LIST_PAGES_MAX 10 /* a lookup reads at most this many pages of 100 */
#define ERROR_TEXT_MAX 400

enum step {
    STEP_CUSTOMER_SEARCH, /* GET  /v1/customers/search (metadata kith_external_id) */
    STEP_BALANCE_LIST,    /* GET  /v1/customers/{c}/balance_transactions (lookup) */
    STEP_BALANCE_CREATE,  /* POST /v1/customers/{c}/balance_transactions */
    STEP_COUPON_LIST,     /* GET  /v1/coupons (lookup) */
    STEP_PROMO_LIST,      /* GET  /v1/promotion_codes?coupon= (lookup) */
    STEP_COUPON_CREATE,   /* POST /v1/coupons */
    STEP_PROMO_CREATE,    /* POST /v1/promotion_codes */
    STEP_SUB_GET,         /* GET  /v1/subscriptions/{s} (reads the trial, and looks up) */
    STEP_SUB_UPDATE,      /* POST /v1/subscriptions/{s} */
    STEP_COUNT,
};

static const struct {
    const char *name;
    bool post;
} steps[STEP_COUNT] = {
    [STEP_CUSTOMER_SEARCH] = {"customer_search", false},
    [STEP_BALANCE_LIST] = {"balance_list", false},
    [STEP_BALANCE_CREATE] = {"balance_create", true},
    [STEP_COUPON_LIST] = {"coupon_list", false},
    [STEP_PROMO_LIST] = {"promotion_code_list", false},
    [STEP_COUPON_CREATE] = {"coupon_create", true},
    [STEP_PROMO_CREATE] = {"promotion_code_create", true},
    [STEP_SUB_GET] = {"subscription_get", false},
    [STEP_SUB_UPDATE] = {"subscription_update", true},
};

static bool step_parse(const char *s, enum step *out)
{
    for (int i = 0; s && i < STEP_COUNT; i++) {
        if (strcmp(s, steps[i].name) == 0) {
            *out = (enum step)i;
            return true;
        }
    }
    return false;
}

/* ---- claiming a call ---- */

/* What one claimed call needs, gathered from the row, the reward, the person and the program. */
struct job {
    json_t *f, *reward, *person, *cfg;
    enum kith_fulfil_method method;
    enum step step;
    json_t *set; /* the row's changes, written with the claim */
    char fail[ERROR_TEXT_MAX];
};

static const char *f_str(struct job *j, const char *col)
{
    json_t *v = json_object_get(j->set, col); /* what this claim changed wins */
    if (v)
        return json_string_value(v);
    return kith_eng_row_str(j->f, col);
}

/* The step due for the row as it stands (after any change this claim made). */
static bool choose_step(struct job *j)
{
    json_t *v = json_object_get(j->set, "verify"); /* this claim's change wins */
    bool verify = v ? json_integer_value(v) != 0 : kith_eng_row_int(j->f, "verify") != 0;
    enum step saved = STEP_COUNT;
    step_parse(kith_eng_row_str(j->f, "step"), &saved);
    switch (j->method) {
    case KITH_FULFIL_STRIPE_BALANCE:
        if (f_str(j, "customer") == NULL) {
            const char *given = kith_eng_row_str(j->person, "stripe_customer_id");
            if (given) {
                json_object_set_new(j->set, "customer", json_string(given));
            } else if (kith_eng_row_str(j->person, "external_id") == NULL) {
                snprintf(j->fail, sizeof(j->fail), "the participant has no stripe_customer_id");
                return false;
            } else {
                j->step = STEP_CUSTOMER_SEARCH;
                return true;
            }
        }
        j->step = verify ? STEP_BALANCE_LIST : STEP_BALANCE_CREATE;
        return true;
    case KITH_FULFIL_STRIPE_COUPON:
        if (verify)
            j->step = f_str(j, "coupon") ? STEP_PROMO_LIST : STEP_COUPON_LIST;
        else
            j->step = f_str(j, "coupon") ? STEP_PROMO_CREATE : STEP_COUPON_CREATE;
        return true;
    case KITH_FULFIL_STRIPE_TRIAL:
        if (kith_eng_row_str(j->person, "stripe_subscription_id") == NULL) {
            snprintf(j->fail, sizeof(j->fail), "the participant has no stripe_subscription_id");
            return false;
        }
        j->step = saved == STEP_SUB_UPDATE && !verify && f_str(j, "request") ? STEP_SUB_UPDATE
                                                                             : STEP_SUB_GET;
        return true;
    default:
        snprintf(j->fail, sizeof(j->fail), "not a Stripe fulfilment");
        return false;
    }
}

static void add_currency(struct kith_buf *b, const char *currency)
{
    char lower[4] = "";
    for (size_t i = 0; currency && i < 3 && currency[i]; i++)
        lower[i] = (char)(currency[i] >= 'A' && currency[i] <= 'Z' ? currency[i] - 'A' + 'a'
                                                                   : currency[i]);
    kith_form_add(b, "currency", lower);
}

/* The list cursor "<pages read> <last id>", or NULL. */
static const char *cursor_id(json_t *f, int *pages)
{
    const char *c = kith_eng_row_str(f, "cursor");
    *pages = 0;
    if (c == NULL)
        return NULL;
    *pages = (int)strtol(c, NULL, 10);
    const char *sp = strchr(c, ' ');
    return sp ? sp + 1 : NULL;
}

/* Search syntax: the value in single quotes, with \ and ' escaped. */
static void search_value(struct kith_buf *b, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '\\' || *s == '\'')
            kith_buf_str(b, "\\");
        kith_buf_append(b, s, 1);
    }
}

/* Builds the request of j->step into path (and body for a POST). */
static void build(struct job *j, struct kith_buf *path, struct kith_buf *body)
{
    const char *id = kith_eng_row_str(j->f, "id");
    int pages = 0;
    const char *after = cursor_id(j->f, &pages);
    switch (j->step) {
    case STEP_CUSTOMER_SEARCH: {
        struct kith_buf q = {0};
        kith_buf_str(&q, "metadata['kith_external_id']:'");
        search_value(&q, kith_eng_row_str(j->person, "external_id"));
        kith_buf_str(&q, "'");
        kith_buf_str(path, "/v1/customers/search?query=");
        kith_form_encode(path, kith_buf_cstr(&q));
        kith_buf_dispose(&q);
        break;
    }
    case STEP_BALANCE_LIST:
    case STEP_BALANCE_CREATE:
        kith_buf_str(path, "/v1/customers/");
        kith_form_encode(path, f_str(j, "customer"));
        kith_buf_str(path, "/balance_transactions");
        if (j->step == STEP_BALANCE_LIST) {
            kith_buf_str(path, "?limit=100");
            if (after) {
                kith_buf_str(path, "&starting_after=");
                kith_form_encode(path, after);
            }
            break;
        }
        /* A credit is a negative amount on the customer's balance. */
        kith_form_add_int(body, "amount", -kith_eng_row_int(j->reward, "amount"));
        add_currency(body, kith_eng_row_str(j->reward, "currency"));
        kith_form_add(body, "description", "Referral reward");
        kith_form_add(body, "metadata[kith_reward]", id);
        break;
    case STEP_COUPON_LIST:
        kith_buf_str(path, "/v1/coupons?limit=100");
        if (after) {
            kith_buf_str(path, "&starting_after=");
            kith_form_encode(path, after);
        }
        break;
    case STEP_PROMO_LIST:
        kith_buf_str(path, "/v1/promotion_codes?coupon=");
        kith_form_encode(path, f_str(j, "coupon"));
        kith_buf_str(path, "&limit=100");
        break;
    case STEP_COUPON_CREATE:
        kith_buf_str(path, "/v1/coupons");
        kith_form_add(body, "duration", "once");
        if (!kith_eng_row_is_null(j->reward, "percent_off")) {
            kith_form_add_int(body, "percent_off", kith_eng_row_int(j->reward, "percent_off"));
        } else {
            kith_form_add_int(body, "amount_off", kith_eng_row_int(j->reward, "amount"));
            add_currency(body, kith_eng_row_str(j->reward, "currency"));
        }
        kith_form_add(body, "max_redemptions", "1");
        kith_form_add(body, "name", "Referral reward");
        kith_form_add(body, "metadata[kith_reward]", id);
        break;
    case STEP_PROMO_CREATE: {
        uint8_t rnd[8];
        char code[KITH_FULFIL_PROMO_CODE_MAX];
        kith_crypto_random(rnd, sizeof(rnd));
        kith_fulfil_promo_code(kith_eng_row_str(j->person, "code"), rnd, code);
        kith_buf_str(path, "/v1/promotion_codes");
        kith_form_add(body, "promotion[type]", "coupon");
        kith_form_add(body, "promotion[coupon]", f_str(j, "coupon"));
        kith_form_add(body, "code", code);
        kith_form_add(body, "max_redemptions", "1");
        kith_form_add(body, "metadata[kith_reward]", id);
        break;
    }
    case STEP_SUB_GET:
    case STEP_SUB_UPDATE:
        kith_buf_str(path, "/v1/subscriptions/");
        kith_form_encode(path, kith_eng_row_str(j->person, "stripe_subscription_id"));
        break; /* the update's body was built from the subscription (record_sub_get) */
    case STEP_COUNT:
        break;
    }
}

static void job_dispose(struct job *j)
{
    json_decref(j->reward);
    json_decref(j->person);
    json_decref(j->cfg);
    json_decref(j->set);
}

/* Prepares the call for row f (claimed, now `sending`); *call is NULL with j->fail set when the
 * fulfilment cannot go on. */
static enum kith_status prepare(struct kith_tx *tx, struct job *j, int64_t now_ms, json_t **call)
{
    enum kith_status st;
    const char *id = kith_eng_row_str(j->f, "id");
    *call = NULL;
    j->set = json_pack("{s:I}", "updated_at", (json_int_t)now_ms);
    if ((st = kith_store_get(tx, "rewards", id, &j->reward)) != KITH_OK ||
        (st = kith_store_get(tx, "participants", kith_eng_row_str(j->f, "participant"),
                             &j->person)) != KITH_OK ||
        (st = kith_eng_prog_config(tx, kith_eng_row_str(j->f, "program"), &j->cfg)) != KITH_OK)
        return st;
    const char *api_key = kith_eng_row_str(j->cfg, "stripe_api_key");
    if (api_key == NULL) {
        snprintf(j->fail, sizeof(j->fail), "the program has no stripe_api_key");
        return KITH_OK;
    }
    if (!kith_fulfil_method_parse(kith_eng_row_str(j->f, "method"), &j->method)) {
        snprintf(j->fail, sizeof(j->fail), "unknown method");
        return KITH_OK;
    }
    /* A stored request whose key Stripe may have forgotten is not resent: look first. */
    enum step saved = STEP_COUNT;
    bool has_saved = step_parse(kith_eng_row_str(j->f, "step"), &saved) && steps[saved].post &&
                     kith_eng_row_str(j->f, "request") != NULL;
    if (has_saved && !kith_eng_row_is_null(j->f, "key_first_at") &&
        now_ms - kith_eng_row_int(j->f, "key_first_at") >= KITH_FULFIL_KEY_TTL_MS) {
        json_object_set_new(j->set, "verify", json_integer(1));
        json_object_set_new(j->set, "request", json_null());
        json_object_set_new(j->set, "key_first_at", json_null());
        has_saved = false;
    }
    if (!choose_step(j))
        return KITH_OK;
    const char *rs = kith_eng_row_str(j->reward, "status");
    bool live = strcmp(rs, "issued") == 0 || strcmp(rs, "redeemed") == 0;
    if (steps[j->step].post && !live && kith_eng_row_int(j->f, "posted") == 0) {
        snprintf(j->fail, sizeof(j->fail), "the reward is %s", rs);
        return KITH_OK;
    }
    struct kith_buf path = {0}, body = {0};
    build(j, &path, &body);
    const char *request = NULL;
    if (steps[j->step].post) {
        if (has_saved && saved == j->step) {
            request = kith_eng_row_str(j->f, "request"); /* a retry: the same bytes */
        } else {
            request = kith_buf_cstr(&body);
            json_object_set_new(j->set, "request", json_string(request));
        }
        if (kith_eng_row_is_null(j->f, "key_first_at") ||
            json_is_null(json_object_get(j->set, "key_first_at")) ||
            !(has_saved && saved == j->step))
            json_object_set_new(j->set, "key_first_at", json_integer(now_ms));
        json_object_set_new(j->set, "posted", json_integer(1));
    }
    int64_t attempt = kith_eng_row_int(j->f, "attempts") + 1;
    json_object_set_new(j->set, "step", json_string(steps[j->step].name));
    json_object_set_new(j->set, "attempts", json_integer(attempt));
    json_object_set_new(j->set, "updated_at", json_integer(now_ms));
    *call = json_pack("{s:s,s:I,s:b,s:s,s:s}", "reward", id, "attempt", (json_int_t)attempt, "get",
                      !steps[j->step].post, "path", kith_buf_cstr(&path), "api_key", api_key);
    if (steps[j->step].post) {
        char key[KITH_FULFIL_IDEM_MAX];
        kith_fulfil_idem_key(id, kith_eng_row_int(j->f, "generation"),
                             j->step == STEP_PROMO_CREATE ? "code" : NULL, key);
        json_object_set_new(*call, "body", json_string(request));
        json_object_set_new(*call, "idem_key", json_string(key));
    }
    kith_buf_dispose(&path);
    kith_buf_dispose(&body);
    return KITH_OK;
}

enum kith_status kith_engine_fulfil_claim(struct kith_tx *tx, int64_t now_ms, size_t max,
                                          json_t **out)
{
    json_t *rows = NULL, *mine = json_array();
    json_t *args = json_pack("[II]", (json_int_t)now_ms, (json_int_t)max);
    enum kith_status st = kith_store_query(tx, KITH_Q_FUL_DUE, args, &rows);
    json_decref(args);
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        if (st != KITH_OK)
            break;
        int64_t changed = 0;
        /* Only rows this transaction really moved are ours: another instance may have the rest. */
        args = json_pack("[sII]", kith_eng_row_str(r, "id"), (json_int_t)now_ms,
                         (json_int_t)(now_ms + KITH_FULFIL_LEASE_MS));
        st = kith_store_exec(tx, KITH_Q_FUL_TAKE, args, &changed);
        json_decref(args);
        if (st != KITH_OK || changed != 1)
            continue;
        struct job j = {.f = NULL};
        json_t *call = NULL;
        if ((st = kith_store_get(tx, "fulfilments", kith_eng_row_str(r, "id"), &j.f)) == KITH_OK)
            st = prepare(tx, &j, now_ms, &call);
        if (st == KITH_OK && call == NULL) {
            if (!j.fail[0])
                snprintf(j.fail, sizeof(j.fail), "the fulfilment could not be prepared");
            st = kith_store_update(tx, "fulfilments", kith_eng_row_str(j.f, "id"), j.set);
            if (st == KITH_OK)
                json_object_update(j.f, j.set);
            if (st == KITH_OK)
                st = kith_eng_fulfil_finish(tx, j.f, false, NULL, NULL, j.fail, now_ms);
        } else if (st == KITH_OK) {
            st = kith_store_update(tx, "fulfilments", kith_eng_row_str(j.f, "id"), j.set);
            if (st == KITH_OK)
                json_array_append(mine, call);
        }
        json_decref(call);
        json_decref(j.f);
        job_dispose(&j);
    }
    json_decref(rows);
    if (st != KITH_OK) {
        json_decref(mine);
        return st;
    }
    *out = mine;
    return KITH_OK;
}

/* ---- recording an answer ---- */

/* Stripe's own words for a refusal, or what happened instead, for `error` (valid UTF-8). */
static void error_text(int http_status, json_t *answer, const char *error, char out[ERROR_TEXT_MAX])
{
    json_t *e = json_object_get(answer, "error");
    const char *msg = json_string_value(json_object_get(e, "message"));
    const char *code = json_string_value(json_object_get(e, "code"));
    if (http_status == 0)
        snprintf(out, ERROR_TEXT_MAX, "no answer from Stripe (%s)",
                 error && error[0] ? error : "transfer_failed");
    else if (msg)
        snprintf(out, ERROR_TEXT_MAX, "Stripe %d%s%s: %s", http_status, code ? " " : "",
                 code ? code : "", msg);
    else
        snprintf(out, ERROR_TEXT_MAX, "Stripe %d", http_status);
    /* Cut on a character boundary, and never keep bytes that are not UTF-8. */
    size_t n = strlen(out);
    while (n > 0 && !kith_valid_utf8(out, n))
        n--;
    out[n] = '\0';
}

static bool for_reward(json_t *obj, const char *reward)
{
    const char *m =
        json_string_value(json_object_get(json_object_get(obj, "metadata"), "kith_reward"));
    return m && strcmp(m, reward) == 0;
}

/* The first object of a list answer made for reward, or NULL. */
static json_t *find_ours(json_t *list, const char *reward)
{
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(list, "data"), i, o)
    {
        if (for_reward(o, reward))
            return o;
    }
    return NULL;
}

/* The next call is due now; set holds what this answer changed. */
static void advance(json_t *set, int64_t now_ms)
{
    json_object_set_new(set, "status", json_string("pending"));
    json_object_set_new(set, "next_attempt_at", json_integer(now_ms));
    json_object_set_new(set, "failures", json_integer(0));
    json_object_set_new(set, "error", json_null());
}

/* A lookup found nothing: a new key may be used, and the customer is found again. */
static void new_generation(json_t *f, json_t *set, int64_t now_ms)
{
    json_object_set_new(set, "generation", json_integer(kith_eng_row_int(f, "generation") + 1));
    json_object_set_new(set, "verify", json_integer(0));
    json_object_set_new(set, "cursor", json_null());
    json_object_set_new(set, "request", json_null());
    json_object_set_new(set, "key_first_at", json_null());
    if (strcmp(kith_eng_row_str(f, "method"), "stripe_balance") == 0)
        json_object_set_new(set, "customer", json_null());
    advance(set, now_ms);
}

/* A list page without ours: the next page, or nothing found. */
static void next_page(json_t *f, json_t *answer, json_t *set, int64_t now_ms)
{
    int pages = 0;
    cursor_id(f, &pages);
    json_t *data = json_object_get(answer, "data");
    const char *last =
        json_string_value(json_object_get(json_array_get(data, json_array_size(data) - 1), "id"));
    if (json_is_true(json_object_get(answer, "has_more")) && last && pages + 1 < LIST_PAGES_MAX) {
        char cursor[300];
        snprintf(cursor, sizeof(cursor), "%d %s", pages + 1, last);
        json_object_set_new(set, "cursor", json_string(cursor));
        advance(set, now_ms);
        return;
    }
    new_generation(f, set, now_ms);
}

/* The subscription's end of the period paid for: the subscription's own field (API versions
 * before 2025-03-31) or the latest of its items'. */
static int64_t period_end(json_t *sub)
{
    int64_t end = json_integer_value(json_object_get(sub, "current_period_end"));
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(json_object_get(sub, "items"), "data"), i, item)
    {
        int64_t e = json_integer_value(json_object_get(item, "current_period_end"));
        if (e > end)
            end = e;
    }
    return end;
}

/*
 * What a 2xx answer means for the step: the changes go into set; *finish is 1 (done), -1
 * (failed, with fail) or 0 (the chain goes on); ext and code name what was made.
 */
static void on_answer(json_t *f, json_t *reward, enum step step, json_t *a, int64_t now_ms,
                      json_t *set, int *finish, const char **ext, const char **code, char *fail)
{
    const char *id = kith_eng_row_str(f, "id");
    json_t *o;
    *finish = 0;
    switch (step) {
    case STEP_CUSTOMER_SEARCH: {
        size_t n = json_array_size(json_object_get(a, "data"));
        const char *cus =
            json_string_value(json_object_get(json_array_get(json_object_get(a, "data"), 0), "id"));
        if (n != 1 || cus == NULL) {
            *finish = -1;
            snprintf(fail, ERROR_TEXT_MAX,
                     n == 0 ? "no Stripe customer has metadata kith_external_id for this "
                              "participant: set its stripe_customer_id"
                            : "several Stripe customers have metadata kith_external_id for this "
                              "participant: set its stripe_customer_id");
            return;
        }
        json_object_set_new(set, "customer", json_string(cus));
        advance(set, now_ms);
        return;
    }
    case STEP_BALANCE_LIST:
    case STEP_COUPON_LIST:
    case STEP_PROMO_LIST:
        if ((o = find_ours(a, id)) == NULL) {
            /* A coupon found earlier stays: only its promotion code gets a new key. */
            next_page(f, a, set, now_ms);
            return;
        }
        if (step == STEP_COUPON_LIST) {
            json_object_set(set, "coupon", json_object_get(o, "id"));
            json_object_set_new(set, "cursor", json_null());
            advance(set, now_ms); /* verify stays: its promotion code is looked up next */
            return;
        }
        *finish = 1;
        *ext = json_string_value(json_object_get(o, "id"));
        *code = step == STEP_PROMO_LIST ? json_string_value(json_object_get(o, "code")) : NULL;
        return;
    case STEP_COUPON_CREATE:
        if (!json_is_string(json_object_get(a, "id")))
            break;
        json_object_set(set, "coupon", json_object_get(a, "id"));
        json_object_set_new(set, "request", json_null());
        json_object_set_new(set, "key_first_at", json_null());
        advance(set, now_ms);
        return;
    case STEP_SUB_GET: {
        const char *status = json_string_value(json_object_get(a, "status"));
        if (for_reward(a, id)) {
            *finish = 1;
            *ext = json_string_value(json_object_get(a, "id"));
            return;
        }
        if (status &&
            (strcmp(status, "canceled") == 0 || strcmp(status, "incomplete_expired") == 0)) {
            *finish = -1;
            snprintf(fail, ERROR_TEXT_MAX, "the Stripe subscription is %s", status);
            return;
        }
        int64_t months =
            kith_eng_row_is_null(reward, "months") ? 1 : kith_eng_row_int(reward, "months");
        int64_t trial_end = kith_fulfil_trial_end(
            now_ms / 1000, json_integer_value(json_object_get(a, "trial_end")), period_end(a),
            (uint32_t)months);
        struct kith_buf body = {0};
        kith_form_add_int(&body, "trial_end", trial_end);
        kith_form_add(&body, "proration_behavior", "none");
        kith_form_add(&body, "metadata[kith_reward]", id);
        json_object_set_new(set, "request", json_string(kith_buf_cstr(&body)));
        json_object_set_new(set, "step", json_string(steps[STEP_SUB_UPDATE].name));
        json_object_set_new(set, "key_first_at", json_null());
        json_object_set_new(set, "verify", json_integer(0));
        /* An update sent before under this generation's key (its answer lost, or the key too
         * old): this one carries other values, so it needs a key of its own. */
        if (kith_eng_row_int(f, "posted") != 0)
            json_object_set_new(set, "generation",
                                json_integer(kith_eng_row_int(f, "generation") + 1));
        kith_buf_dispose(&body);
        advance(set, now_ms);
        return;
    }
    case STEP_BALANCE_CREATE:
    case STEP_PROMO_CREATE:
    case STEP_SUB_UPDATE:
        if (!json_is_string(json_object_get(a, "id")))
            break;
        *finish = 1;
        *ext = json_string_value(json_object_get(a, "id"));
        *code = step == STEP_PROMO_CREATE ? json_string_value(json_object_get(a, "code")) : NULL;
        return;
    case STEP_COUNT:
        break;
    }
    *finish = -1;
    snprintf(fail, ERROR_TEXT_MAX, "Stripe's answer to %s had no object id", steps[step].name);
}

enum kith_status kith_engine_fulfil_record(struct kith_tx *tx, const char *reward_id,
                                           int64_t attempt, int http_status, const char *body,
                                           int64_t retry_after_s, int should_retry,
                                           const char *error, int64_t now_ms, const char **outcome)
{
    json_t *f = NULL, *reward = NULL, *a = NULL, *set = NULL;
    enum step step;
    *outcome = "stale";
    enum kith_status st = kith_store_get_locked(tx, "fulfilments", reward_id, &f);
    if (st != KITH_OK)
        return st == KITH_E_NOT_FOUND ? KITH_OK : st;
    /* Only the answer to the call the row is waiting for counts: a call whose lease ran out was
     * claimed again (the same request and key), and only the newest attempt is recorded. */
    if (strcmp(kith_eng_row_str(f, "status"), "sending") != 0 ||
        kith_eng_row_int(f, "attempts") != attempt ||
        !step_parse(kith_eng_row_str(f, "step"), &step))
        goto out;
    if ((st = kith_store_get(tx, "rewards", reward_id, &reward)) != KITH_OK)
        goto out;
    a = body ? json_loads(body, 0, NULL) : NULL;
    set = json_pack("{s:I}", "updated_at", (json_int_t)now_ms);
    int finish = 0;
    const char *ext = NULL, *code = NULL;
    char fail[ERROR_TEXT_MAX] = "";
    bool answered = http_status >= 200 && http_status <= 299 && json_is_object(a);
    if (answered) {
        on_answer(f, reward, step, a, now_ms, set, &finish, &ext, &code, fail);
    } else if (http_status == 404 && (step == STEP_BALANCE_LIST || step == STEP_PROMO_LIST)) {
        /* A lookup on a customer or coupon that is not there: nothing of ours is either. */
        new_generation(f, set, now_ms);
    } else if (kith_fulfil_retryable(http_status, should_retry) ||
               (http_status >= 200 && http_status <= 299)) {
        /* No answer, Stripe busy or failing, or a 2xx we cannot read: the same call again. */
        int failures = (int)kith_eng_row_int(f, "failures") + 1;
        int64_t delay = kith_webhook_retry_delay_ms(failures, retry_after_s,
                                                    (uint32_t)kith_crypto_uniform(65536));
        if (http_status >= 200 && http_status <= 299)
            snprintf(fail, sizeof(fail), "Stripe answered %d without a JSON object", http_status);
        else
            error_text(http_status, a, error, fail);
        if (delay < 0) {
            finish = -1;
        } else {
            json_object_set_new(set, "status", json_string("pending"));
            json_object_set_new(set, "next_attempt_at", json_integer(now_ms + delay));
            json_object_set_new(set, "failures", json_integer(failures));
            json_object_set_new(set, "error", json_string(fail));
            *outcome = "retry";
        }
    } else {
        finish = -1;
        error_text(http_status, a, error, fail);
    }
    if ((st = kith_store_update(tx, "fulfilments", reward_id, set)) != KITH_OK)
        goto out;
    json_object_update(f, set);
    if (finish != 0) {
        st = kith_eng_fulfil_finish(tx, f, finish > 0, ext, code, fail, now_ms);
        *outcome = finish > 0 ? "done" : "failed";
    } else if (strcmp(*outcome, "retry") != 0) {
        *outcome = "next";
    }
out:
    json_decref(f);
    json_decref(reward);
    json_decref(a);
    json_decref(set);
    return st;
}
