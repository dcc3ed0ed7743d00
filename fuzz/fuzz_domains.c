/*
 * fuzz_domains.c: domain lists and e-mail domains (src/fraud). The whole input is the text of a
 * domain list for kith_domain_set_parse (operators load these from files; the shipped ones are
 * embedded). Each line is then looked up as a host, so the target checks that every line the
 * parser should keep (header contract: trimmed, not blank, not '#', one plain name) matches,
 * with any case, a trailing dot, and as the parent of a subdomain, and that a sibling name that
 * merely ends with it does not. Each line also goes through kith_fraud_email_stem, whose pieces
 * must put the address back together.
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz_check.h"
#include "kith/core.h"
#include "kith/fraud.h"

#define NAME_MAX_LEN 253 /* RFC 1035, without the trailing dot (src/fraud/fraud.c) */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
}

/* Whether the trimmed line [a, b) is a name the set must hold, per the documented rules. */
static bool kept(const char *a, size_t n)
{
    if (n == 0 || a[0] == '#')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_name_char(a[i]))
            return false;
    size_t len = a[n - 1] == '.' ? n - 1 : n;
    return len > 0 && len <= NAME_MAX_LEN;
}

static void check_stem(const char *email)
{
    char domain[400], stem[400];
    bool digits = true;
    if (!kith_fraud_email_stem(email, domain, sizeof(domain), stem, sizeof(stem), &digits)) {
        FUZZ_CHECK(domain[0] == '\0' && stem[0] == '\0' && !digits, "refused \"%s\" left output",
                   email);
        return;
    }
    const char *at = strrchr(email, '@');
    FUZZ_CHECK(at != NULL, "\"%s\" accepted without '@'", email);
    FUZZ_CHECK(strcmp(domain, at + 1) == 0 && domain[0] != '\0', "\"%s\": domain \"%s\"", email,
               domain);
    size_t sl = strlen(stem), ll = (size_t)(at - email);
    FUZZ_CHECK(sl <= ll && memcmp(stem, email, sl) == 0, "\"%s\": stem \"%s\"", email, stem);
    FUZZ_CHECK(strspn(email + sl, "0123456789") == ll - sl, "\"%s\": stem \"%s\" leaves non-digits",
               email, stem);
    FUZZ_CHECK(digits == (sl < ll), "\"%s\": ends_in_digits %d with stem \"%s\"", email, digits,
               stem);
    FUZZ_CHECK(sl == 0 || !(stem[sl - 1] >= '0' && stem[sl - 1] <= '9'),
               "\"%s\": stem \"%s\" ends in a digit", email, stem);
}

static void check_line(const struct kith_domain_set *set, const char *line, size_t n)
{
    /* Lines with NULs cannot be a C host; the parser must skip them (checked through size). */
    char host[NAME_MAX_LEN + 8], sub[NAME_MAX_LEN + 16], sib[NAME_MAX_LEN + 16];
    if (n > NAME_MAX_LEN + 1 || memchr(line, '\0', n) != NULL)
        return;
    memcpy(host, line, n);
    host[n] = '\0';
    check_stem(host);
    bool must = kept(line, n);
    bool got = kith_domain_set_match(set, host);
    if (must) {
        FUZZ_CHECK(got, "listed name \"%s\" does not match", host);
        /* Any case. */
        for (char *c = host; *c != '\0'; c++)
            if (*c >= 'a' && *c <= 'z')
                *c = (char)(*c - 'a' + 'A');
        FUZZ_CHECK(kith_domain_set_match(set, host), "upper-cased \"%s\" does not match", host);
        /* A subdomain, for names without empty labels (".a", "a..b" are not DNS names) and
         * short enough that "x." + name is still a DNS name. */
        size_t len = host[n - 1] == '.' ? n - 1 : n;
        bool plain = host[0] != '.' && strstr(host, "..") == NULL && host[len - 1] != '.' &&
                     len + 2 <= NAME_MAX_LEN;
        if (plain) {
            snprintf(sub, sizeof(sub), "x.%s", host);
            FUZZ_CHECK(kith_domain_set_match(set, sub), "subdomain \"%s\" does not match", sub);
            const char *one[] = {host};
            FUZZ_CHECK(kith_domain_list_match(one, 1, sub), "list: \"%s\" under \"%s\"", sub, host);
        }
    }
    /*
     * "~example.com" cannot be listed ('~' is not a name character), so it may match only
     * through a parent domain: never as a mere string suffix of a listed name.
     */
    snprintf(sib, sizeof(sib), "~%s", host);
    if (kith_domain_set_match(set, sib)) {
        const char *dot = strchr(sib, '.');
        FUZZ_CHECK(dot != NULL && kith_domain_set_match(set, dot + 1),
                   "\"%s\" matches only as a string suffix", sib);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct kith_domain_set *set = NULL;
    struct kith_err err;
    enum kith_status st = kith_domain_set_parse(size ? text : NULL, size, &set, &err);
    FUZZ_CHECK(st == KITH_OK, "parse refused %zu bytes: %s", size, err.message);

    size_t lines = 1, pos = 0;
    while (pos < size) {
        size_t end = pos;
        while (end < size && text[end] != '\n')
            end++;
        size_t a = pos, b = end;
        lines++;
        pos = end + 1;
        while (a < b && is_space(text[a]))
            a++;
        while (b > a && is_space(text[b - 1]))
            b--;
        check_line(set, text + a, b - a);
    }
    FUZZ_CHECK(kith_domain_set_size(set) <= lines, "%zu names from %zu lines",
               kith_domain_set_size(set), lines);

    /* The whole input as one host, and the NULL/empty edges. */
    char *host = fuzz_cstr(data, size);
    (void)kith_domain_set_match(set, host);
    check_stem(host);
    FUZZ_CHECK(!kith_domain_set_match(set, ""), "the empty name matches");
    FUZZ_CHECK(!kith_domain_set_match(NULL, host), "a NULL set matches");
    free(host);
    kith_domain_set_destroy(set);
    return 0;
}
