/*
 * codes.c: building, normalising and checking referral codes ("JANE-2847"). It turns a first
 * name into a short A-Z prefix (with a transliteration table for Latin-1 Supplement and Latin
 * Extended-A), appends a random suffix drawn from caller-supplied bytes, and reduces typed codes
 * and vanity aliases to the forms the store compares. It is not for uniqueness, persistence or
 * randomness: the store owns the unique index and the caller owns the random source.
 */
#include <string.h>

#include "kith/codes.h"
#include "kith/core.h"
#include "kith/text.h"

/*
 * Transliterations for U+00C0..U+017F, as sorted ranges covering the whole span. Accented
 * letters lose their accents; letters without a decomposition get the spelling people use in
 * ASCII (ß->SS, Þ->TH, Ł->L, Ŋ->N). × and ÷ are not letters and map to nothing.
 */
struct translit {
    uint32_t lo, hi;
    const char *ascii;
};

static const struct translit translits[] = {
    {0x00C0, 0x00C5, "A"},  {0x00C6, 0x00C6, "AE"}, {0x00C7, 0x00C7, "C"},  {0x00C8, 0x00CB, "E"},
    {0x00CC, 0x00CF, "I"},  {0x00D0, 0x00D0, "D"},  {0x00D1, 0x00D1, "N"},  {0x00D2, 0x00D6, "O"},
    {0x00D7, 0x00D7, ""},   {0x00D8, 0x00D8, "O"},  {0x00D9, 0x00DC, "U"},  {0x00DD, 0x00DD, "Y"},
    {0x00DE, 0x00DE, "TH"}, {0x00DF, 0x00DF, "SS"}, {0x00E0, 0x00E5, "A"},  {0x00E6, 0x00E6, "AE"},
    {0x00E7, 0x00E7, "C"},  {0x00E8, 0x00EB, "E"},  {0x00EC, 0x00EF, "I"},  {0x00F0, 0x00F0, "D"},
    {0x00F1, 0x00F1, "N"},  {0x00F2, 0x00F6, "O"},  {0x00F7, 0x00F7, ""},   {0x00F8, 0x00F8, "O"},
    {0x00F9, 0x00FC, "U"},  {0x00FD, 0x00FD, "Y"},  {0x00FE, 0x00FE, "TH"}, {0x00FF, 0x00FF, "Y"},
    {0x0100, 0x0105, "A"},  {0x0106, 0x010D, "C"},  {0x010E, 0x0111, "D"},  {0x0112, 0x011B, "E"},
    {0x011C, 0x0123, "G"},  {0x0124, 0x0127, "H"},  {0x0128, 0x0131, "I"},  {0x0132, 0x0133, "IJ"},
    {0x0134, 0x0135, "J"},  {0x0136, 0x0138, "K"},  {0x0139, 0x0142, "L"},  {0x0143, 0x014B, "N"},
    {0x014C, 0x0151, "O"},  {0x0152, 0x0153, "OE"}, {0x0154, 0x0159, "R"},  {0x015A, 0x0161, "S"},
    {0x0162, 0x0167, "T"},  {0x0168, 0x0173, "U"},  {0x0174, 0x0175, "W"},  {0x0176, 0x0178, "Y"},
    {0x0179, 0x017E, "Z"},  {0x017F, 0x017F, "S"},
};

/* The A-Z spelling of a non-ASCII code point; "" when it has none (other scripts, symbols). */
static const char *translit_of(uint32_t cp)
{
    for (size_t i = 0; i < KITH_ARRAY_LEN(translits); i++) {
        if (cp >= translits[i].lo && cp <= translits[i].hi)
            return translits[i].ascii;
    }
    return "";
}

size_t kith_code_prefix(const char *first_name, char out[KITH_CODE_PREFIX_MAX + 1])
{
    size_t n = 0;
    out[0] = '\0';
    if (first_name == NULL)
        return 0;
    const unsigned char *s = (const unsigned char *)first_name;
    size_t left = strlen(first_name);
    while (left > 0 && n < KITH_CODE_PREFIX_MAX) {
        uint32_t cp;
        /* An invalid sequence consumes one byte: the next lead byte resynchronises. */
        size_t used = kith_utf8_decode(s, left, &cp);
        s += used;
        left -= used;
        if (cp >= 'a' && cp <= 'z') {
            out[n++] = (char)(cp - 'a' + 'A');
        } else if (cp >= 'A' && cp <= 'Z') {
            out[n++] = (char)cp;
        } else if (cp >= 0xC0 && cp != UINT32_MAX) {
            /* A two-letter spelling may be cut at the cap: "Anaß" gives "ANAS". */
            for (const char *t = translit_of(cp); *t != '\0' && n < KITH_CODE_PREFIX_MAX; t++)
                out[n++] = *t;
        }
    }
    out[n] = '\0';
    return n;
}

void kith_code_make(const char *prefix, bool alnum_suffix,
                    const uint8_t rnd[KITH_CODE_RANDOM_BYTES], char out[KITH_CODE_MAX + 1])
{
    static const char letters[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    static const char digits[] = "0123456789";
    static const char alnum[] = KITH_CODE_ALNUM_ALPHABET;
    size_t n = 0;

    /* Only A-Z is trusted from the caller, so a bad prefix can never break the format. */
    if (prefix != NULL) {
        for (size_t i = 0; prefix[i] != '\0' && n < KITH_CODE_PREFIX_MAX; i++) {
            if (prefix[i] >= 'A' && prefix[i] <= 'Z')
                out[n++] = prefix[i];
        }
    }
    if (n == 0) {
        for (size_t i = 0; i < KITH_CODE_PREFIX_MAX; i++)
            out[n++] = letters[rnd[i] % (sizeof(letters) - 1)];
    }
    out[n++] = '-';
    for (size_t i = 0; i < KITH_CODE_SUFFIX_LEN; i++) {
        uint8_t r = rnd[KITH_CODE_PREFIX_MAX + i];
        out[n++] = alnum_suffix ? alnum[r % (sizeof(alnum) - 1)] : digits[r % (sizeof(digits) - 1)];
    }
    out[n] = '\0';
}

static bool is_trim_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static char ascii_upper(char c)
{
    return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

static bool is_upper_alnum(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool kith_code_normalize(const char *typed, char out[KITH_CODE_NORM_MAX + 1])
{
    out[0] = '\0';
    if (typed == NULL)
        return false;
    size_t start = 0, end = strlen(typed);
    while (start < end && is_trim_space(typed[start]))
        start++;
    while (end > start && is_trim_space(typed[end - 1]))
        end--;

    size_t n = 0;
    for (size_t i = start; i < end; i++) {
        char c = ascii_upper(typed[i]);
        if (c == ' ' || c == '\t' || c == '-' || c == '_')
            continue;
        if (!is_upper_alnum(c) || n == KITH_CODE_NORM_MAX) {
            out[0] = '\0';
            return false;
        }
        out[n++] = c;
    }
    out[n] = '\0';
    return n > 0;
}

bool kith_code_alias_canonical(const char *alias, char out[KITH_CODE_MAX + 1])
{
    size_t n = 0;
    bool any_alnum = false;
    out[0] = '\0';
    if (alias == NULL)
        return false;
    for (; alias[n] != '\0'; n++) {
        char c = ascii_upper(alias[n]);
        if (n == KITH_CODE_MAX || !(is_upper_alnum(c) || c == '-')) {
            out[0] = '\0';
            return false;
        }
        any_alnum = any_alnum || c != '-';
        out[n] = c;
    }
    out[n] = '\0';
    if (n < 3 || !any_alnum) {
        out[0] = '\0';
        return false;
    }
    return true;
}

bool kith_code_use_alnum(uint32_t digit_codes_taken)
{
    return digit_codes_taken >= KITH_CODE_ALNUM_AFTER;
}
