/*
 * fraud.c: the fraud signals of CONTRACT section 6 turned into flags, a score and a verdict, and
 * the domain sets (disposable e-mail providers, coupon and deal sites) those signals look names
 * up in. The engine gathers every fact inside its transaction and hands them over; this file
 * only judges them. It is not for finding facts: no store, no clock, no logging, no globals, so
 * the same facts always give the same flags.
 */
#include <stdlib.h>
#include <string.h>

#include "kith/fraud.h"

/* RFC 1035: a name is at most 253 characters written without its trailing dot. */
#define KITH_FRAUD_NAME_MAX 253
/* The shipped lists are a few hundred KiB; anything far past that is a mistake, not a list. */
#define KITH_FRAUD_LIST_TEXT_MAX ((size_t)64 * 1024 * 1024)
/* RFC 5321 caps an address at 254 octets in practice; a little slack for odd local parts. */
#define KITH_FRAUD_EMAIL_MAX 320

/* Sorted, unique, lowercase names; each points into `text`, one allocation owned by the set. */
struct kith_domain_set {
    char **names;
    size_t count;
    char *text;
};

static void *xmalloc(size_t n)
{
    /* Out of memory aborts (STYLE.md): the sizes here were bounded before we got this far. */
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        abort();
    return p;
}

static char lower_ascii(char c)
{
    /* Not tolower(): the locale must not change what a domain name is. */
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static bool is_name_char(char c)
{
    /* Letters, digits, hyphen and dot; '_' too, because real lists carry names like "_dmarc". */
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

/*
 * Copies name[0, len) lowercased into out (KITH_FRAUD_NAME_MAX + 1 bytes) without one trailing
 * dot. False when the result is empty or longer than a DNS name can be, so over-long input
 * never matches instead of matching on a truncated prefix.
 */
static bool normalize_name(const char *name, size_t len, char *out)
{
    if (len > 0 && name[len - 1] == '.')
        len--;
    if (len == 0 || len > KITH_FRAUD_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        out[i] = lower_ascii(name[i]);
    out[len] = '\0';
    return true;
}

/* The same for a NUL-terminated string of unknown length: read at most one byte too many. */
static bool normalize_cstr(const char *name, char *out)
{
    if (name == NULL)
        return false;
    /* +2: room for a trailing dot on a maximal name, and one more byte to see it is too long. */
    size_t len = strnlen(name, KITH_FRAUD_NAME_MAX + 2);
    if (len > KITH_FRAUD_NAME_MAX + 1)
        return false;
    return normalize_name(name, len, out);
}

static int cmp_name_ptr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_key_name(const void *key, const void *elem)
{
    return strcmp((const char *)key, *(char *const *)elem);
}

enum kith_status kith_domain_set_parse(const char *text, size_t len, struct kith_domain_set **out,
                                       struct kith_err *err)
{
    if (out == NULL)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "out", "no place for the domain set");
    *out = NULL;
    if (text == NULL && len > 0)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "text", "no text for the domain set");
    if (len > KITH_FRAUD_LIST_TEXT_MAX)
        return kith_err_set(err, KITH_E_TOO_LARGE, "text", "domain list of %zu bytes is over %zu",
                            len, KITH_FRAUD_LIST_TEXT_MAX);

    /* Upper bound on entries: one per line. The copies never outgrow the text (plus NULs). */
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';

    struct kith_domain_set *set = xmalloc(sizeof(*set));
    set->names = xmalloc(lines * sizeof(*set->names));
    set->text = xmalloc(len + lines);
    set->count = 0;

    char *dst = set->text;
    size_t pos = 0;
    while (pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n')
            end++;
        size_t a = pos, b = end;
        pos = end + 1;
        while (a < b && is_space(text[a]))
            a++;
        while (b > a && is_space(text[b - 1]))
            b--;
        if (a == b || text[a] == '#')
            continue;
        /* A line that is not one plain name (inner spaces, NUL or control bytes) is skipped. */
        bool ok = true;
        for (size_t i = a; i < b && ok; i++)
            ok = is_name_char(lower_ascii(text[i]));
        if (!ok || !normalize_name(text + a, b - a, dst))
            continue;
        set->names[set->count++] = dst;
        dst += strlen(dst) + 1;
    }

    if (set->count > 1) {
        qsort(set->names, set->count, sizeof(*set->names), cmp_name_ptr);
        size_t w = 1;
        for (size_t r = 1; r < set->count; r++)
            if (strcmp(set->names[r], set->names[w - 1]) != 0)
                set->names[w++] = set->names[r];
        set->count = w;
    }
    *out = set;
    return KITH_OK;
}

void kith_domain_set_destroy(struct kith_domain_set *set)
{
    if (set == NULL)
        return;
    free(set->names);
    free(set->text);
    free(set);
}

size_t kith_domain_set_size(const struct kith_domain_set *set)
{
    return set ? set->count : 0;
}

/*
 * The parent of a name: what follows its first dot. Walking parents visits label boundaries
 * only, so "notmailinator.com" is never tried as "mailinator.com".
 */
static const char *next_parent(const char *name)
{
    const char *dot = strchr(name, '.');
    return dot ? dot + 1 : NULL;
}

bool kith_domain_set_match(const struct kith_domain_set *set, const char *host)
{
    char name[KITH_FRAUD_NAME_MAX + 1];
    if (set == NULL || set->count == 0 || !normalize_cstr(host, name))
        return false;
    for (const char *s = name; s != NULL && *s != '\0'; s = next_parent(s))
        if (bsearch(s, set->names, set->count, sizeof(*set->names), cmp_key_name) != NULL)
            return true;
    return false;
}

bool kith_domain_list_match(const char *const *domains, size_t n, const char *host)
{
    char name[KITH_FRAUD_NAME_MAX + 1], entry[KITH_FRAUD_NAME_MAX + 1];
    if (domains == NULL || n == 0 || !normalize_cstr(host, name))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!normalize_cstr(domains[i], entry))
            continue;
        for (const char *s = name; s != NULL && *s != '\0'; s = next_parent(s))
            if (strcmp(s, entry) == 0)
                return true;
    }
    return false;
}

bool kith_fraud_email_stem(const char *email, char *domain, size_t domain_size, char *stem,
                           size_t stem_size, bool *ends_in_digits)
{
    if (domain != NULL && domain_size > 0)
        domain[0] = '\0';
    if (stem != NULL && stem_size > 0)
        stem[0] = '\0';
    if (ends_in_digits != NULL)
        *ends_in_digits = false;
    if (email == NULL || domain == NULL || stem == NULL || domain_size == 0 || stem_size == 0)
        return false;
    size_t len = strnlen(email, KITH_FRAUD_EMAIL_MAX + 1);
    if (len > KITH_FRAUD_EMAIL_MAX)
        return false;
    /* The last '@': a quoted local part may hold one, a domain never does. */
    const char *at = NULL;
    for (size_t i = 0; i < len; i++)
        if (email[i] == '@')
            at = email + i;
    if (at == NULL)
        return false;
    size_t local_len = (size_t)(at - email);
    size_t domain_len = len - local_len - 1;
    if (local_len == 0 || domain_len == 0)
        return false;
    size_t stem_len = local_len;
    while (stem_len > 0 && email[stem_len - 1] >= '0' && email[stem_len - 1] <= '9')
        stem_len--;
    if (domain_len >= domain_size || stem_len >= stem_size)
        return false;
    memcpy(domain, at + 1, domain_len);
    domain[domain_len] = '\0';
    memcpy(stem, email, stem_len);
    stem[stem_len] = '\0';
    if (ends_in_digits != NULL)
        *ends_in_digits = stem_len < local_len;
    return true;
}

/*
 * now - created < hours, without signed overflow. A referrer stamped at or after `now` (clock
 * skew between writers) is age 0: new whenever the window is open, never when it is 0 hours.
 */
static bool referrer_is_new(int64_t created_ms, int64_t now_ms, uint32_t hours)
{
    uint64_t window = (uint64_t)hours * (uint64_t)KITH_MS_PER_HOUR;
    uint64_t age = now_ms > created_ms ? (uint64_t)now_ms - (uint64_t)created_ms : 0;
    return age < window;
}

unsigned kith_fraud_flags(const struct kith_fraud_facts *f, const struct kith_fraud_settings *s)
{
    unsigned flags = 0;
    if (f == NULL || s == NULL)
        return 0;
    if (f->ip_match)
        flags |= KITH_FRAUD_SAME_IP;
    if (f->device_match)
        flags |= KITH_FRAUD_SAME_DEVICE;
    if (f->payment_match)
        flags |= KITH_FRAUD_SAME_PAYMENT;
    if (f->referrer_recent >= s->velocity_per_day)
        flags |= KITH_FRAUD_VELOCITY;
    if (f->email_domain != NULL &&
        (kith_domain_set_match(s->disposable, f->email_domain) ||
         kith_domain_list_match(s->blocked_email_domains, s->blocked_email_count, f->email_domain)))
        flags |= KITH_FRAUD_DISPOSABLE_EMAIL;
    if (f->email_ends_in_digits && f->same_stem_earlier >= 2)
        flags |= KITH_FRAUD_SEQUENTIAL_EMAIL;
    if (referrer_is_new(f->referrer_created_ms, f->now_ms, s->new_account_hours))
        flags |= KITH_FRAUD_NEW_REFERRER;
    if (f->click_host != NULL && (kith_domain_set_match(s->coupon_sites, f->click_host) ||
                                  kith_domain_list_match(s->blocked_referrer_domains,
                                                         s->blocked_referrer_count, f->click_host)))
        flags |= KITH_FRAUD_COUPON_SITE;
    return flags;
}

unsigned kith_fraud_score(unsigned flags)
{
    /* Only the defined bits count: a stray bit from a corrupt row must not raise the score. */
    unsigned n = 0;
    for (flags &= (1u << KITH_FRAUD_FLAG_COUNT) - 1; flags != 0; flags &= flags - 1)
        n++;
    return n;
}

enum kith_fraud_verdict kith_fraud_verdict(unsigned score, const struct kith_fraud_settings *s)
{
    if (s == NULL)
        return KITH_FRAUD_PASS;
    if (score >= s->reject_at)
        return KITH_FRAUD_REJECT;
    if (score >= s->review_at)
        return KITH_FRAUD_REVIEW;
    return KITH_FRAUD_PASS;
}

/* Indexed by bit position; the names are the contract's and are stored in rows. */
static const char *const flag_names[KITH_FRAUD_FLAG_COUNT] = {
    "same_ip",          "same_device",      "same_payment", "velocity",
    "disposable_email", "sequential_email", "new_referrer", "coupon_site",
};

const char *kith_fraud_flag_name(unsigned flag)
{
    for (unsigned i = 0; i < KITH_FRAUD_FLAG_COUNT; i++)
        if (flag == 1u << i)
            return flag_names[i];
    return NULL;
}

unsigned kith_fraud_flag_parse(const char *name)
{
    if (name == NULL)
        return 0;
    for (unsigned i = 0; i < KITH_FRAUD_FLAG_COUNT; i++)
        if (strcmp(name, flag_names[i]) == 0)
            return 1u << i;
    return 0;
}
