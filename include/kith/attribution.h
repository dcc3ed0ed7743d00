/*
 * attribution.h: who gets credit for a signup. The engine gathers the facts about each candidate
 * source (the `ref` the signup page saw, the typed code, the click behind the cookie, the newest
 * lead left with the same e-mail on a shared resource); this module decides, with no I/O. Also
 * the e-mail normalisation used for self-referral and for matching a signup to its lead.
 *
 * Ownership and threads: pure functions over caller-owned inputs; reentrant, no global state,
 * safe from any thread.
 */
#ifndef KITH_ATTRIBUTION_H
#define KITH_ATTRIBUTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Candidate sources, in tie-break order (url beats code beats cookie beats lead). */
enum kith_attr_source {
    KITH_ATTR_URL = 0,
    KITH_ATTR_CODE = 1,
    KITH_ATTR_COOKIE = 2,
    KITH_ATTR_LEAD = 3, /* CONTRACT 5 (v2): an e-mail left on a resource someone shared */
    KITH_ATTR_ORGANIC = 4,
};
#define KITH_ATTR_SOURCES 4

enum kith_attr_reject {
    KITH_ATTR_ACCEPTED = 0,
    KITH_ATTR_ABSENT, /* the request did not carry this source: not listed */
    KITH_ATTR_UNKNOWN_CODE,
    KITH_ATTR_UNKNOWN_CLICK,
    KITH_ATTR_OTHER_PROGRAM,
    KITH_ATTR_REFERRER_BLOCKED, /* blocked or erased referrer */
    KITH_ATTR_SELF_REFERRAL,
    KITH_ATTR_STALE_CLICK,
};

/* What the engine found out about one candidate. Strings are borrowed. */
struct kith_attr_facts {
    bool present;          /* the request carried it */
    bool found;            /* the code or click exists */
    bool same_program;     /* it belongs to the signup's program */
    bool referrer_blocked; /* the referrer is blocked or erased */
    const char *referrer_external_id;
    const char *referrer_email_norm; /* normalised, or NULL */
    int64_t at_ms; /* interaction time: signup time for url/code, click time for cookie, the
                      lead's time for lead */
};

struct kith_attr_input {
    struct kith_attr_facts cand[KITH_ATTR_SOURCES]; /* indexed by enum kith_attr_source */
    const char *external_id;                        /* the person signing up */
    const char *email_norm;                         /* normalised, or NULL */
    int64_t now_ms;                                 /* the signup time */
    int64_t window_ms; /* attribution window: older clicks and leads are stale */
};

struct kith_attr_result {
    enum kith_attr_source winner; /* KITH_ATTR_ORGANIC when none is left */
    enum kith_attr_reject reason[KITH_ATTR_SOURCES];
};

/*
 * The waterfall. Each present candidate is checked in this order and rejected with the first
 * reason that applies: unknown_code/unknown_click (a lead that is not found is unknown_click: the
 * engine only presents leads it found), other_program, referrer_blocked, self_referral (same
 * external_id, or equal normalised e-mail when both are known), stale_click (cookie and lead
 * only: now_ms - at_ms > window_ms). Of the accepted ones the most recent at_ms wins; ties go url,
 * code, cookie, lead.
 */
void kith_attribution_decide(const struct kith_attr_input *in, struct kith_attr_result *out);

/* "url", "code", "cookie", "lead", "organic". */
const char *kith_attr_source_name(enum kith_attr_source s);
/* "unknown_code", ... ; NULL for ACCEPTED and ABSENT. */
const char *kith_attr_reject_name(enum kith_attr_reject r);

/*
 * Normalises an e-mail for comparison: trims, lowercases; for gmail.com and googlemail.com
 * removes dots from the local part; in every domain removes anything from '+' in the local
 * part. Returns false (out untouched or empty) when email has no single '@' with text on both
 * sides or the result does not fit outsize.
 */
bool kith_email_normalize(const char *email, char *out, size_t outsize);

#endif
