/*
 * fuzz_codes.c: referral codes and e-mails as people type them (src/codes, src/attribution).
 * The input is one NUL-terminated string fed to kith_code_normalize, kith_code_alias_canonical,
 * kith_code_prefix and kith_email_normalize. Beyond "no crash", it checks each function's
 * contract from its header: the output alphabet and length bounds, idempotence of the
 * normal forms, and that an accepted alias is also a code that normalises.
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz_check.h"
#include "kith/attribution.h"
#include "kith/codes.h"

static bool all_upper_alnum(const char *s, bool dash_ok)
{
    for (; *s != '\0'; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || (dash_ok && *s == '-')))
            return false;
    return true;
}

static void check_normalize(const char *in)
{
    char out[KITH_CODE_NORM_MAX + 1], again[KITH_CODE_NORM_MAX + 1];
    bool ok = kith_code_normalize(in, out);
    if (!ok) {
        FUZZ_CHECK(out[0] == '\0', "refused input left \"%s\" in out", out);
        return;
    }
    size_t n = strlen(out);
    FUZZ_CHECK(n >= 1 && n <= KITH_CODE_NORM_MAX, "normal form \"%s\" has length %zu", out, n);
    FUZZ_CHECK(all_upper_alnum(out, false), "normal form \"%s\" is not A-Z0-9", out);
    FUZZ_CHECK(kith_code_normalize(out, again) && strcmp(out, again) == 0,
               "not idempotent: \"%s\" -> \"%s\"", out, again);
}

static void check_alias(const char *in)
{
    char out[KITH_CODE_MAX + 1], again[KITH_CODE_MAX + 1], norm[KITH_CODE_NORM_MAX + 1];
    bool ok = kith_code_alias_canonical(in, out);
    if (!ok) {
        FUZZ_CHECK(out[0] == '\0', "refused alias left \"%s\" in out", out);
        return;
    }
    size_t n = strlen(out);
    FUZZ_CHECK(n >= 3 && n <= KITH_CODE_MAX, "alias \"%s\" has length %zu", out, n);
    FUZZ_CHECK(all_upper_alnum(out, true), "alias \"%s\" is not [A-Z0-9-]", out);
    FUZZ_CHECK(strspn(out, "-") < n, "alias \"%s\" has no letter or digit", out);
    FUZZ_CHECK(kith_code_alias_canonical(out, again) && strcmp(out, again) == 0,
               "alias not idempotent: \"%s\" -> \"%s\"", out, again);
    /* A vanity alias is typed and shared like a code, so it must survive normalisation. */
    FUZZ_CHECK(kith_code_normalize(in, norm), "alias \"%s\" accepted but does not normalise", in);
}

static void check_prefix(const char *in)
{
    char out[KITH_CODE_PREFIX_MAX + 1];
    size_t n = kith_code_prefix(in, out);
    FUZZ_CHECK(n <= KITH_CODE_PREFIX_MAX, "prefix length %zu", n);
    FUZZ_CHECK(strlen(out) == n, "prefix \"%s\" but returned %zu", out, n);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(out[i] >= 'A' && out[i] <= 'Z', "prefix \"%s\" is not A-Z", out);
    /* A prefix must make a well-formed code: PREFIX-SSSS. */
    static const uint8_t rnd[KITH_CODE_RANDOM_BYTES] = {0, 1, 2, 3, 250, 251, 252, 253};
    char code[KITH_CODE_MAX + 1], norm[KITH_CODE_NORM_MAX + 1];
    kith_code_make(out, n % 2 == 1, rnd, code);
    FUZZ_CHECK(strlen(code) == KITH_CODE_MAX - (KITH_CODE_PREFIX_MAX - (n ? n : 4)),
               "code \"%s\" from prefix \"%s\"", code, out);
    FUZZ_CHECK(kith_code_normalize(code, norm), "code \"%s\" does not normalise", code);
}

static void check_email(const char *in, size_t outsize)
{
    char out[512], again[512];
    bool ok = kith_email_normalize(in, out, outsize);
    if (!ok)
        return;
    size_t n = strlen(out);
    FUZZ_CHECK(n < outsize, "e-mail \"%s\" longer than outsize %zu", out, outsize);
    FUZZ_CHECK(strchr(out, '@') != NULL && strchr(out, '@') == strrchr(out, '@') && out[0] != '@' &&
                   out[n - 1] != '@',
               "e-mail \"%s\" lost its single inner '@'", out);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(!(out[i] >= 'A' && out[i] <= 'Z'), "e-mail \"%s\" is not lowercase", out);
    /* Comparison keys must be stable: normalising a normal form changes nothing. (Found by this
     * target: inner whitespace made it order-dependent; such addresses are now refused.) */
    FUZZ_CHECK(kith_email_normalize(out, again, sizeof(again)) && strcmp(out, again) == 0,
               "e-mail not idempotent: \"%s\" -> \"%s\"", out, again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fuzz_cstr(data, size);
    check_normalize(in);
    check_alias(in);
    check_prefix(in);
    check_email(in, 512);
    /* A small out buffer exercises the "does not fit" paths at every length. */
    check_email(in, 1 + size % 24);
    free(in);
    return 0;
}
