/*
 * fraud.h: the scoring pipeline's rules (CONTRACT section 6). Pure: the engine gathers the facts
 * with indexed queries inside the signup's (or event's) transaction; this module turns them into
 * flags, a score and a verdict, and owns the domain lists (disposable e-mail providers,
 * coupon and deal sites) as in-memory sets built from text at start. No I/O, no clock.
 *
 * Ownership and threads: verdicts are pure functions of caller-owned facts; a domain set is
 * built once (the caller owns and destroys it) and is read-only afterwards, so threads may share
 * it.
 */
#ifndef KITH_FRAUD_H
#define KITH_FRAUD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kith/core.h"

enum kith_fraud_flag {
    KITH_FRAUD_SAME_IP = 1 << 0,
    KITH_FRAUD_SAME_DEVICE = 1 << 1,
    KITH_FRAUD_SAME_PAYMENT = 1 << 2,
    KITH_FRAUD_VELOCITY = 1 << 3,
    KITH_FRAUD_DISPOSABLE_EMAIL = 1 << 4,
    KITH_FRAUD_SEQUENTIAL_EMAIL = 1 << 5,
    KITH_FRAUD_NEW_REFERRER = 1 << 6,
    KITH_FRAUD_COUPON_SITE = 1 << 7,
};
#define KITH_FRAUD_FLAG_COUNT 8

/* A set of domain names; a name matches when it or any parent domain is in the set. */
struct kith_domain_set;

/*
 * Builds a set from text: one domain per line; blank lines and lines starting with '#' are
 * skipped; surrounding whitespace is trimmed; names are lowercased. *out is NULL-safe to destroy.
 */
enum kith_status kith_domain_set_parse(const char *text, size_t len, struct kith_domain_set **out,
                                       struct kith_err *err);
void kith_domain_set_destroy(struct kith_domain_set *set);
size_t kith_domain_set_size(const struct kith_domain_set *set);
/* True when host (any case, optional trailing dot) or one of its parent domains is in set.
 * A NULL set matches nothing. */
bool kith_domain_set_match(const struct kith_domain_set *set, const char *host);
/* The same rule against a small list of domains (program settings). */
bool kith_domain_list_match(const char *const *domains, size_t n, const char *host);

/*
 * Splits a normalised e-mail into its domain and "stem": the local part without its trailing
 * digits. *ends_in_digits tells whether there were any. Returns false for a malformed address.
 * "anna17@mail.com" -> domain "mail.com", stem "anna", true.
 */
bool kith_fraud_email_stem(const char *email, char *domain, size_t domain_size, char *stem,
                           size_t stem_size, bool *ends_in_digits);

/* The facts about one referral, gathered by the engine. */
struct kith_fraud_facts {
    bool ip_match; /* the signup IP equals one known for the referrer */
    bool device_match;
    bool payment_match;
    uint32_t referrer_recent; /* referrer's referrals created in the 24 h before this one */
    const char *email_domain; /* the referred person's e-mail domain, or NULL */
    bool email_ends_in_digits;
    uint32_t same_stem_earlier; /* referrer's earlier referrals with same domain and stem */
    int64_t referrer_created_ms;
    int64_t now_ms;
    const char *click_host; /* the winning click's referrer host, or NULL */
};

struct kith_fraud_settings {
    uint32_t review_at;
    uint32_t reject_at;
    uint32_t velocity_per_day;
    uint32_t new_account_hours;
    const struct kith_domain_set *disposable;   /* shipped list (may be NULL) */
    const struct kith_domain_set *coupon_sites; /* shipped list (may be NULL) */
    const char *const *blocked_email_domains;
    size_t blocked_email_count;
    const char *const *blocked_referrer_domains;
    size_t blocked_referrer_count;
};

enum kith_fraud_verdict {
    KITH_FRAUD_PASS,   /* pending */
    KITH_FRAUD_REVIEW, /* held for a person to decide */
    KITH_FRAUD_REJECT, /* rejected automatically */
};

/* Every signal: returns the flags (a mask of enum kith_fraud_flag). */
unsigned kith_fraud_flags(const struct kith_fraud_facts *f, const struct kith_fraud_settings *s);
/* Number of flags in a mask. */
unsigned kith_fraud_score(unsigned flags);
/* score >= reject_at: reject; score >= review_at: review; otherwise pass. */
enum kith_fraud_verdict kith_fraud_verdict(unsigned score, const struct kith_fraud_settings *s);
/* "same_ip", ... for one flag bit; NULL for anything else. */
const char *kith_fraud_flag_name(unsigned flag);
/* Parses a flag name; 0 when unknown. */
unsigned kith_fraud_flag_parse(const char *name);

#endif
