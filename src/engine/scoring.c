/*
 * scoring.c: gathers the facts the fraud rules need, with indexed queries inside the caller's
 * transaction (never a table scan): the referrer's known IP hash, device and payment
 * fingerprints, their referrals in the last 24 hours, earlier referrals with the same e-mail
 * stem, their age, and the winning click's referrer host. src/fraud decides.
 */
#include <string.h>

#include "engine/internal.h"
#include "kith/fraud.h"

/*
 * How much later than this server's now another instance's clock may stamp a referral that was
 * stored before the one being scored. Rows stamped in that margin count as earlier only for a
 * signup at now; a signup dated by occurred_at counts exactly what was created up to its time.
 */
#define SKEW_MS (60 * INT64_C(1000))

static const unsigned flag_order[] = {
    KITH_FRAUD_SAME_IP,      KITH_FRAUD_SAME_DEVICE,      KITH_FRAUD_SAME_PAYMENT,
    KITH_FRAUD_VELOCITY,     KITH_FRAUD_DISPOSABLE_EMAIL, KITH_FRAUD_SEQUENTIAL_EMAIL,
    KITH_FRAUD_NEW_REFERRER, KITH_FRAUD_COUPON_SITE,
};

json_t *kith_eng_flags_json(unsigned flags)
{
    json_t *a = json_array();
    for (size_t i = 0; i < KITH_ARRAY_LEN(flag_order); i++) {
        if (flags & flag_order[i])
            json_array_append_new(a, json_string(kith_fraud_flag_name(flag_order[i])));
    }
    return a;
}

unsigned kith_eng_flags_from_json(const char *text)
{
    unsigned flags = 0;
    json_t *a = text ? json_loads(text, 0, NULL) : NULL;
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) flags |= kith_fraud_flag_parse(json_string_value(v));
    json_decref(a);
    return flags;
}

static void settings_of(const struct kith_engine *eng, const struct prog *p,
                        struct kith_fraud_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->review_at = p->review_at;
    s->reject_at = p->reject_at;
    s->velocity_per_day = p->velocity_per_day;
    s->new_account_hours = p->new_account_hours;
    s->disposable = eng ? eng->disposable : NULL;
    s->coupon_sites = eng ? eng->coupon_sites : NULL;
}

const char *kith_eng_verdict_status(const struct prog *p, unsigned flags)
{
    struct kith_fraud_settings s;
    settings_of(NULL, p, &s);
    switch (kith_fraud_verdict(kith_fraud_score(flags), &s)) {
    case KITH_FRAUD_REJECT:
        return "rejected";
    case KITH_FRAUD_REVIEW:
        return "review";
    default:
        return "pending";
    }
}

static enum kith_status count_of(struct kith_tx *tx, enum kith_query query, json_t *args,
                                 int64_t *n)
{
    json_t *row = NULL;
    enum kith_status st = kith_store_query_one(tx, query, args, &row);
    json_decref(args);
    if (st == KITH_OK)
        *n = kith_eng_row_int(row, "n");
    json_decref(row);
    return st;
}

enum kith_status kith_eng_payment_known(struct kith_tx *tx, json_t *referrer,
                                        const char *fingerprint, bool *known)
{
    *known = false;
    if (fingerprint == NULL)
        return KITH_OK;
    const char *own = kith_eng_row_str(referrer, "payment_fingerprint");
    *known = own && strcmp(own, fingerprint) == 0;
    if (*known)
        return KITH_OK;
    int64_t n = 0;
    enum kith_status st =
        count_of(tx, KITH_Q_FRAUD_PAYMENT,
                 json_pack("[ss]", kith_eng_row_str(referrer, "id"), fingerprint), &n);
    *known = n > 0;
    return st;
}

/* Collects a JSON array of strings into a borrowed C array (max n). */
static size_t strings_of(json_t *a, const char **out, size_t n)
{
    size_t k = 0, i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        if (k < n && json_is_string(v))
            out[k++] = json_string_value(v);
    }
    return k;
}

static bool same(json_t *a, json_t *b, const char *col)
{
    const char *x = kith_eng_row_str(a, col), *y = kith_eng_row_str(b, col);
    return x && y && strcmp(x, y) == 0;
}

enum kith_status kith_eng_score_referral(struct kith_tx *tx, const struct kith_engine *eng,
                                         const struct prog *p, json_t *referrer, json_t *person,
                                         const char *click_host, int64_t at_ms, int64_t now_ms,
                                         json_t *referral, unsigned *flags, struct kith_err *err)
{
    json_t *cfg = NULL;
    const char *referrer_id = kith_eng_row_str(referrer, "id");
    struct kith_fraud_facts f;
    struct kith_fraud_settings s;
    char domain[256] = "", stem[256] = "";
    const char *blocked_emails[1000], *blocked_refs[1000];
    enum kith_status st;
    memset(&f, 0, sizeof(f));
    settings_of(eng, p, &s);
    if ((st = kith_eng_prog_config(tx, p->id, &cfg)) != KITH_OK)
        goto fail;
    /* Counting the referrer's recent referrals must see concurrent signups for the same
     * referrer (other connections, other instances): lock their row, so they count in turn. */
    if ((st = kith_store_lock(tx, "participants", referrer_id)) != KITH_OK)
        goto fail;
    json_t *fraud = json_object_get(cfg, "fraud");
    s.blocked_email_domains = blocked_emails;
    s.blocked_email_count =
        strings_of(json_object_get(fraud, "blocked_email_domains"), blocked_emails, 1000);
    s.blocked_referrer_domains = blocked_refs;
    s.blocked_referrer_count =
        strings_of(json_object_get(fraud, "blocked_referrer_domains"), blocked_refs, 1000);

    f.ip_match = same(person, referrer, "ip_hash");
    f.device_match = same(person, referrer, "device_id");
    if ((st = kith_eng_payment_known(tx, referrer, kith_eng_row_str(person, "payment_fingerprint"),
                                     &f.payment_match)) != KITH_OK)
        goto fail;
    /* "Before this one" (CONTRACT section 6): created up to this referral's time; the new row
     * is not stored yet, so one created at the same moment was stored first and counts. */
    int64_t n = 0, until = at_ms == now_ms ? now_ms + SKEW_MS : at_ms;
    const char *email = kith_eng_row_str(person, "email_norm");
    bool digits = false, stemmed = email && kith_fraud_email_stem(email, domain, sizeof(domain),
                                                                  stem, sizeof(stem), &digits);
    json_int_t since = (json_int_t)(at_ms - 24 * KITH_MS_PER_HOUR);
    if (stemmed && digits) {
        /* Velocity and look-alike e-mails in one read (KITH_Q_FRAUD_RECENT_STEM). */
        json_t *row = NULL, *args = json_pack("[sIIIss]", referrer_id, since, (json_int_t)until,
                                              (json_int_t)p->velocity_per_day, domain, stem);
        st = kith_store_query_one(tx, KITH_Q_FRAUD_RECENT_STEM, args, &row);
        json_decref(args);
        if (st == KITH_OK) {
            f.referrer_recent = (uint32_t)kith_eng_row_int(row, "n");
            f.same_stem_earlier = (uint32_t)kith_eng_row_int(row, "stem");
        }
        json_decref(row);
        if (st != KITH_OK)
            goto fail;
    } else {
        if ((st = count_of(tx, KITH_Q_FRAUD_RECENT,
                           json_pack("[sIII]", referrer_id, since, (json_int_t)until,
                                     (json_int_t)p->velocity_per_day),
                           &n)) != KITH_OK)
            goto fail;
        f.referrer_recent = (uint32_t)n;
    }
    if (stemmed) {
        f.email_domain = domain;
        f.email_ends_in_digits = digits;
        json_object_set_new(referral, "email_domain", json_string(domain));
        json_object_set_new(referral, "email_stem", json_string(stem));
    }
    f.referrer_created_ms = kith_eng_row_int(referrer, "created_at");
    f.now_ms = at_ms;
    f.click_host = click_host;
    *flags = kith_fraud_flags(&f, &s);
    st = KITH_OK;
    goto out;
fail:
    st = kith_err_set(err, st, NULL, "the database could not score the referral");
out:
    json_decref(cfg);
    return st;
}
