/*
 * codes.h: referral codes as people say them: "JANE-2847". Pure functions: no I/O, no clock, no
 * global state; randomness comes in as bytes so every result is reproducible in tests. Uniqueness
 * is the store's job (a unique index on the normalised form); this module only builds, checks and
 * normalises strings.
 *
 * Ownership and threads: pure functions writing only into caller-owned buffers; reentrant and
 * safe from any thread (randomness comes from the caller).
 */
#ifndef KITH_CODES_H
#define KITH_CODES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KITH_CODE_MAX 9        /* characters in a code or alias, dash included */
#define KITH_CODE_PREFIX_MAX 4 /* letters taken from the first name */
#define KITH_CODE_SUFFIX_LEN 4
#define KITH_CODE_RANDOM_BYTES 8 /* random bytes kith_code_make() consumes */
/* The alphabet used once half of a prefix's 10,000 digit suffixes are taken (no 0/1/I/L/O/U). */
#define KITH_CODE_ALNUM_ALPHABET "23456789ABCDEFGHJKMNPQRSTVWXYZ"
#define KITH_CODE_DIGIT_SPACE 10000
#define KITH_CODE_ALNUM_AFTER (KITH_CODE_DIGIT_SPACE / 2)

/*
 * Writes into out the first 1-4 letters of first_name (UTF-8), transliterated to A-Z and
 * uppercased: accented Latin letters lose their accents (É->E, Ñ->N, Ç->C), ß->SS, Æ->AE,
 * Œ->OE, Ø->O, Þ->TH, Ð->D, Ł->L; characters with no mapping (digits, punctuation, other
 * scripts, invalid UTF-8) are skipped. Returns the number of letters written (0..4); out is
 * always NUL-terminated. NULL first_name gives 0.
 */
size_t kith_code_prefix(const char *first_name, char out[KITH_CODE_PREFIX_MAX + 1]);

/*
 * Builds a code "PREFIX-SSSS" into out from prefix (0..4 letters A-Z) and
 * KITH_CODE_RANDOM_BYTES random bytes. An empty prefix gets 4 random letters A-Z instead. The
 * suffix is 4 digits, or 4 characters of KITH_CODE_ALNUM_ALPHABET when alnum_suffix is true.
 * Draws are unbiased enough for the purpose (a byte modulo a small alphabet is acceptable here:
 * codes are identifiers, not secrets).
 */
void kith_code_make(const char *prefix, bool alnum_suffix,
                    const uint8_t rnd[KITH_CODE_RANDOM_BYTES], char out[KITH_CODE_MAX + 1]);

/*
 * Normalises what a person typed or a link carried: trims, uppercases ASCII, removes spaces,
 * tabs, dashes and underscores. Returns true and writes the result (only A-Z and 0-9, 1..16
 * characters) into out; false for an empty result, any other character, or more than 16.
 * "jane 2847", "Jane2847" and " JANE-2847 " all give "JANE2847".
 */
#define KITH_CODE_NORM_MAX 16
bool kith_code_normalize(const char *typed, char out[KITH_CODE_NORM_MAX + 1]);

/*
 * Checks a vanity alias ([A-Za-z0-9-]{3,9}) and writes its canonical (uppercased) form into out.
 * An alias whose normal form is empty (e.g. "---") is refused.
 */
bool kith_code_alias_canonical(const char *alias, char out[KITH_CODE_MAX + 1]);

/* The suffix space left for a prefix: whether new codes must switch to the alnum alphabet. */
bool kith_code_use_alnum(uint32_t digit_codes_taken);

#endif
