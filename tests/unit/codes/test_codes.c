/*
 * test_codes.c: unit tests for src/codes: name prefixes and transliteration (including invalid
 * UTF-8 and buffers that end right after a truncated sequence, so ASan sees any over-read), code
 * construction from random bytes, typed-code normalisation, vanity aliases and the switch to the
 * alphanumeric suffix alphabet. Not for uniqueness, which the store suite covers.
 */
#include <stdbool.h>

#include "kith/codes.h"
#include "test.h"

static const char *prefix_of(const char *name)
{
    static char out[KITH_CODE_PREFIX_MAX + 1];
    memset(out, 'x', sizeof(out));
    size_t n = kith_code_prefix(name, out);
    if (n != strlen(out))
        return "(length mismatch)";
    return out;
}

/* The prefix of a heap copy of exactly len bytes plus NUL, so ASan catches a read past it. */
static const char *prefix_of_bytes(const char *bytes, size_t len)
{
    static char out[KITH_CODE_PREFIX_MAX + 1];
    char *copy = malloc(len + 1);
    if (copy == NULL)
        abort();
    memcpy(copy, bytes, len);
    copy[len] = '\0';
    kith_code_prefix(copy, out);
    free(copy);
    return out;
}

static void test_prefix_ascii(void)
{
    CHECK_STR(prefix_of("Jane"), "JANE");
    CHECK_STR(prefix_of("jane"), "JANE");
    CHECK_STR(prefix_of("Jo"), "JO");
    CHECK_STR(prefix_of("X"), "X");
    CHECK_STR(prefix_of("Alexander"), "ALEX");
    CHECK_STR(prefix_of("Jo-Ann"), "JOAN");
    CHECK_STR(prefix_of("  Mary Ann"), "MARY");
    CHECK_STR(prefix_of("R2D2bot"), "RDBO");
    CHECK_STR(prefix_of("o'Neil"), "ONEI");
}

static void test_prefix_transliterated(void)
{
    CHECK_STR(prefix_of("élodie"), "ELOD");
    CHECK_STR(prefix_of("Élodie"), "ELOD");
    CHECK_STR(prefix_of("Øystein"), "OYST");
    CHECK_STR(prefix_of("øystein"), "OYST");
    CHECK_STR(prefix_of("Straße"), "STRA");
    CHECK_STR(prefix_of("ßa"), "SSA");
    CHECK_STR(prefix_of("Anaß"), "ANAS");
    CHECK_STR(prefix_of("Þór"), "THOR");
    CHECK_STR(prefix_of("þóra"), "THOR");
    CHECK_STR(prefix_of("Ðan"), "DAN");
    CHECK_STR(prefix_of("Æsa"), "AESA");
    CHECK_STR(prefix_of("Œdipe"), "OEDI");
    CHECK_STR(prefix_of("Łucja"), "LUCJ");
    CHECK_STR(prefix_of("Šárka"), "SARK");
    CHECK_STR(prefix_of("Žofia"), "ZOFI");
    CHECK_STR(prefix_of("Ñoño"), "NONO");
    CHECK_STR(prefix_of("Çağla"), "CAGL");
    CHECK_STR(prefix_of("Ĳsbrand"), "IJSB");
    CHECK_STR(prefix_of("ÿ"), "Y");
    CHECK_STR(prefix_of("ßßß"), "SSSS");
    CHECK_STR(prefix_of("Ţţ"), "TT");
    CHECK_STR(prefix_of("ſ"), "S");
    CHECK_STR(prefix_of("ĸ"), "K");
    CHECK_STR(prefix_of("Ŋŋ"), "NN");
}

/* Every code point of Latin-1 Supplement letters and Latin Extended-A maps to 1-2 letters. */
static void test_prefix_table_complete(void)
{
    for (unsigned cp = 0xC0; cp <= 0x17F; cp++) {
        char utf8[3] = {(char)(0xC0 | (cp >> 6)), (char)(0x80 | (cp & 0x3F)), '\0'};
        char out[KITH_CODE_PREFIX_MAX + 1];
        size_t n = kith_code_prefix(utf8, out);
        if (cp == 0xD7 || cp == 0xF7) {
            CHECK_INT(n, 0); /* multiplication and division signs are not letters */
            continue;
        }
        bool ok = n >= 1 && n <= 2;
        for (size_t i = 0; i < n; i++)
            ok = ok && out[i] >= 'A' && out[i] <= 'Z';
        if (!ok)
            fprintf(stderr, "U+%04X -> \"%s\"\n", cp, out);
        CHECK(ok);
    }
}

static void test_prefix_no_letters(void)
{
    char out[KITH_CODE_PREFIX_MAX + 1] = "junk";
    CHECK_INT(kith_code_prefix(NULL, out), 0);
    CHECK_STR(out, "");
    CHECK_STR(prefix_of(""), "");
    CHECK_STR(prefix_of("123"), "");
    CHECK_STR(prefix_of("李"), "");
    CHECK_STR(prefix_of("李小龍"), "");
    CHECK_STR(prefix_of("Ελένη"), "");
    CHECK_STR(prefix_of("×÷"), "");
    CHECK_STR(prefix_of("!?- _."), "");
    CHECK_STR(prefix_of("李Li"), "LI");
    CHECK_STR(prefix_of("😀Zoe"), "ZOE");
}

static void test_prefix_invalid_utf8(void)
{
    CHECK_STR(prefix_of("\xC3"), "");               /* truncated two-byte */
    CHECK_STR(prefix_of("\xC3\x41"), "A");          /* lead without continuation */
    CHECK_STR(prefix_of("\x80\xBF"), "");           /* lone continuation bytes */
    CHECK_STR(prefix_of("\xC0\x81\x42o"), "BO");    /* overlong 'A' is not an A */
    CHECK_STR(prefix_of("\xC1\xA1"), "");           /* overlong 'a' */
    CHECK_STR(prefix_of("\xE0\x80\x81"), "");       /* overlong three-byte */
    CHECK_STR(prefix_of("\xE0\x83\x89"), "");       /* overlong É */
    CHECK_STR(prefix_of("\xED\xA0\x80X"), "X");     /* surrogate */
    CHECK_STR(prefix_of("\xF0\x80\x83\x89"), "");   /* overlong four-byte */
    CHECK_STR(prefix_of("\xF4\x90\x80\x80Y"), "Y"); /* past U+10FFFF */
    CHECK_STR(prefix_of("\xF5\x80\x80\x80Z"), "Z");
    CHECK_STR(prefix_of("\xFF\xFEZ"), "Z");
    CHECK_STR(prefix_of("\xC3\xC3\x89"), "E");   /* bad lead, then a good É */
    CHECK_STR(prefix_of("J\xC3\x61ne"), "JANE"); /* \x61 is 'a' */
    CHECK_STR(prefix_of("\xE2\x82"), "");        /* truncated three-byte */
    /* Truncated sequences at the very end of the allocation: never read past the NUL. */
    CHECK_STR(prefix_of_bytes("\xC3", 1), "");
    CHECK_STR(prefix_of_bytes("A\xE2\x82", 3), "A");
    CHECK_STR(prefix_of_bytes("\xF0\x9F", 2), "");
    CHECK_STR(prefix_of_bytes("\xF0\x9F\x98", 3), "");
    CHECK_STR(prefix_of_bytes("\xC3\x89", 2), "E");
}

static void test_prefix_long(void)
{
    size_t len = 100000;
    char *name = malloc(len + 1);
    if (name == NULL)
        abort();
    memset(name, 'a', len);
    name[len] = '\0';
    CHECK_STR(prefix_of(name), "AAAA");
    memset(name, '\xFF', len);
    CHECK_STR(prefix_of(name), "");
    memset(name, '7', len);
    name[len - 1] = 'q';
    CHECK_STR(prefix_of(name), "Q");
    /* Many two-byte letters: still capped at four output letters. */
    for (size_t i = 0; i + 1 < len; i += 2) {
        name[i] = '\xC3';
        name[i + 1] = '\x9F'; /* ß */
    }
    name[len] = '\0';
    CHECK_STR(prefix_of(name), "SSSS");
    free(name);
}

static bool in_alphabet(char c, const char *alphabet)
{
    return c != '\0' && strchr(alphabet, c) != NULL;
}

/* Checks "L{1,4}-SSSS" with the given suffix alphabet. */
static bool well_formed(const char *code, const char *suffix_alphabet)
{
    size_t len = strlen(code);
    if (len < 6 || len > KITH_CODE_MAX)
        return false;
    size_t dash = len - KITH_CODE_SUFFIX_LEN - 1;
    if (code[dash] != '-')
        return false;
    for (size_t i = 0; i < dash; i++) {
        if (code[i] < 'A' || code[i] > 'Z')
            return false;
    }
    for (size_t i = dash + 1; i < len; i++) {
        if (!in_alphabet(code[i], suffix_alphabet))
            return false;
    }
    return true;
}

static void test_make_digits(void)
{
    char out[KITH_CODE_MAX + 1];
    const uint8_t rnd[KITH_CODE_RANDOM_BYTES] = {9, 9, 9, 9, 2, 8, 4, 7};
    kith_code_make("JANE", false, rnd, out);
    CHECK_STR(out, "JANE-2847");
    kith_code_make("JO", false, rnd, out);
    CHECK_STR(out, "JO-2847");
    kith_code_make("X", false, rnd, out);
    CHECK_STR(out, "X-2847");
    const uint8_t high[KITH_CODE_RANDOM_BYTES] = {0, 0, 0, 0, 255, 10, 19, 0};
    kith_code_make("STRA", false, high, out);
    CHECK_STR(out, "STRA-5090");
}

static void test_make_alnum(void)
{
    char out[KITH_CODE_MAX + 1];
    const uint8_t rnd[KITH_CODE_RANDOM_BYTES] = {0, 0, 0, 0, 0, 29, 30, 255};
    kith_code_make("JANE", true, rnd, out);
    CHECK_STR(out, "JANE-2Z2H");
    /* The alphabet leaves out characters people confuse. */
    CHECK(strpbrk(KITH_CODE_ALNUM_ALPHABET, "01ILOU") == NULL);
    CHECK_INT(strlen(KITH_CODE_ALNUM_ALPHABET), 30);
}

static void test_make_random_letters(void)
{
    char out[KITH_CODE_MAX + 1];
    const uint8_t rnd[KITH_CODE_RANDOM_BYTES] = {0, 25, 26, 255, 1, 2, 3, 4};
    kith_code_make("", false, rnd, out);
    CHECK_STR(out, "AZAV-1234");
    kith_code_make(NULL, false, rnd, out);
    CHECK_STR(out, "AZAV-1234");
    kith_code_make("", true, rnd, out);
    CHECK_STR(out, "AZAV-3456");
    /* From names with no usable letters to codes, end to end. */
    const char *names[] = {"", "123", "李", "\xFF\xFE", "×"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char prefix[KITH_CODE_PREFIX_MAX + 1];
        CHECK_INT(kith_code_prefix(names[i], prefix), 0);
        kith_code_make(prefix, false, rnd, out);
        CHECK_STR(out, "AZAV-1234");
    }
}

static void test_make_untrusted_prefix(void)
{
    char out[KITH_CODE_MAX + 1];
    const uint8_t rnd[KITH_CODE_RANDOM_BYTES] = {0, 1, 2, 3, 4, 5, 6, 7};
    kith_code_make("ABCDEFG", false, rnd, out);
    CHECK_STR(out, "ABCD-4567");
    kith_code_make("J1-x", false, rnd, out);
    CHECK_STR(out, "J-4567");
    kith_code_make("--", false, rnd, out);
    CHECK_STR(out, "ABCD-4567");
}

/* xorshift32: deterministic bytes for the property test (no rand()). */
static uint32_t next_random(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

static void test_make_property(void)
{
    const char *names[] = {"Jane", "élodie", "Øystein", "Straße",    "Þór", "",     "123",
                           "李",   "ßa",     "\xC3",    "Alexander", "Æ",   "Œuvre"};
    uint32_t state = 2463534242u;
    int bad = 0;
    for (int round = 0; round < 2000; round++) {
        uint8_t rnd[KITH_CODE_RANDOM_BYTES];
        for (size_t i = 0; i < sizeof(rnd); i++)
            rnd[i] = (uint8_t)next_random(&state);
        const char *name = names[(size_t)round % (sizeof(names) / sizeof(names[0]))];
        char prefix[KITH_CODE_PREFIX_MAX + 1], code[KITH_CODE_MAX + 1];
        size_t n = kith_code_prefix(name, prefix);
        bool alnum = round % 2 == 1;
        kith_code_make(prefix, alnum, rnd, code);
        bool ok = well_formed(code, alnum ? KITH_CODE_ALNUM_ALPHABET : "0123456789") &&
                  (n == 0 || strncmp(code, prefix, n) == 0);
        /* Every code normalises to itself without the dash, as the store compares them. */
        char norm[KITH_CODE_NORM_MAX + 1];
        ok = ok && kith_code_normalize(code, norm) && strlen(norm) == strlen(code) - 1;
        if (!ok && bad++ < 5)
            fprintf(stderr, "bad code \"%s\" for \"%s\"\n", code, name);
    }
    CHECK_INT(bad, 0);
}

static void test_use_alnum(void)
{
    CHECK(!kith_code_use_alnum(0));
    CHECK(!kith_code_use_alnum(4999));
    CHECK(kith_code_use_alnum(5000));
    CHECK(kith_code_use_alnum(5001));
    CHECK(kith_code_use_alnum(10000));
    CHECK(kith_code_use_alnum(UINT32_MAX));
}

static const char *norm_of(const char *typed)
{
    static char out[KITH_CODE_NORM_MAX + 1];
    if (!kith_code_normalize(typed, out)) {
        if (out[0] != '\0')
            return "(refused but wrote)";
        return "(refused)";
    }
    return out;
}

static void test_normalize_accepts(void)
{
    CHECK_STR(norm_of("jane 2847"), "JANE2847");
    CHECK_STR(norm_of("Jane2847"), "JANE2847");
    CHECK_STR(norm_of(" JANE-2847 "), "JANE2847");
    CHECK_STR(norm_of("JANE-2847"), "JANE2847");
    CHECK_STR(norm_of("jane_2847"), "JANE2847");
    CHECK_STR(norm_of("\tj-a n_e\t2847\r\n"), "JANE2847");
    CHECK_STR(norm_of("x"), "X");
    CHECK_STR(norm_of("7"), "7");
    CHECK_STR(norm_of("ABCDEFGHIJKLMNOP"), "ABCDEFGHIJKLMNOP");
    CHECK_STR(norm_of("abcd-efgh-ijkl-mnop"), "ABCDEFGHIJKLMNOP");
    CHECK_STR(norm_of("jane-2z2h"), "JANE2Z2H");
}

static void test_normalize_refuses(void)
{
    char out[KITH_CODE_NORM_MAX + 1];
    CHECK(!kith_code_normalize(NULL, out));
    CHECK_STR(norm_of(""), "(refused)");
    CHECK_STR(norm_of("   "), "(refused)");
    CHECK_STR(norm_of("---"), "(refused)");
    CHECK_STR(norm_of(" _ - \t"), "(refused)");
    CHECK_STR(norm_of("JANE!2847"), "(refused)");
    CHECK_STR(norm_of("JANE.2847"), "(refused)");
    CHECK_STR(norm_of("JANE/2847"), "(refused)");
    CHECK_STR(norm_of("jané"), "(refused)");
    CHECK_STR(norm_of("JA\nNE"), "(refused)");
    CHECK_STR(norm_of("JANE\x01"), "(refused)");
    CHECK_STR(norm_of("ABCDEFGHIJKLMNOPQ"), "(refused)");
    CHECK_STR(norm_of("ABCDEFGHIJKLMNOP1"), "(refused)");
    char longer[1001];
    memset(longer, 'A', 1000);
    longer[1000] = '\0';
    CHECK_STR(norm_of(longer), "(refused)");
}

static const char *alias_of(const char *alias)
{
    static char out[KITH_CODE_MAX + 1];
    if (!kith_code_alias_canonical(alias, out)) {
        if (out[0] != '\0')
            return "(refused but wrote)";
        return "(refused)";
    }
    return out;
}

static void test_alias(void)
{
    CHECK_STR(alias_of("jane"), "JANE");
    CHECK_STR(alias_of("JANE"), "JANE");
    CHECK_STR(alias_of("Jane-1"), "JANE-1");
    CHECK_STR(alias_of("abc"), "ABC");
    CHECK_STR(alias_of("123"), "123");
    CHECK_STR(alias_of("-a-"), "-A-");
    CHECK_STR(alias_of("abcdefghi"), "ABCDEFGHI");
    CHECK_STR(alias_of("jane-2847"), "JANE-2847");

    char out[KITH_CODE_MAX + 1];
    CHECK(!kith_code_alias_canonical(NULL, out));
    CHECK_STR(alias_of(""), "(refused)");
    CHECK_STR(alias_of("ab"), "(refused)");
    CHECK_STR(alias_of("abcdefghij"), "(refused)");
    CHECK_STR(alias_of("---"), "(refused)");
    CHECK_STR(alias_of("---------"), "(refused)");
    CHECK_STR(alias_of("ja ne"), "(refused)");
    CHECK_STR(alias_of("ja_ne"), "(refused)");
    CHECK_STR(alias_of(" jane"), "(refused)");
    CHECK_STR(alias_of("jané"), "(refused)");
    CHECK_STR(alias_of("jane!"), "(refused)");
    CHECK_STR(alias_of("averyveryverylongalias"), "(refused)");
}

int main(void)
{
    RUN(test_prefix_ascii);
    RUN(test_prefix_transliterated);
    RUN(test_prefix_table_complete);
    RUN(test_prefix_no_letters);
    RUN(test_prefix_invalid_utf8);
    RUN(test_prefix_long);
    RUN(test_make_digits);
    RUN(test_make_alnum);
    RUN(test_make_random_letters);
    RUN(test_make_untrusted_prefix);
    RUN(test_make_property);
    RUN(test_use_alnum);
    RUN(test_normalize_accepts);
    RUN(test_normalize_refuses);
    RUN(test_alias);
    TEST_DONE();
}
