/*
 * fuzz_time.c: RFC 3339 timestamps from clients (src/core/clock.c). The input is one
 * NUL-terminated string for kith_time_parse. When the parser accepts, the instant must survive
 * a round trip through kith_time_format (which writes whole seconds in UTC): parsing the
 * formatted text gives the same instant truncated to the second, and formatting that again gives
 * the same text.
 *
 * The round trip is only checked where kith_time_format's output is in the parser's own domain:
 * 1970-01-01T00:00:00Z <= t < 10000-01-01T00:00:00Z. The parser accepts a few instants outside
 * it, through offsets at the edges of its year range ("1970-01-01T00:00:00+01:00" is 1969 in UTC,
 * "9999-12-31T23:00:00-02:00" is year 10000); those formatted forms do not parse back (see
 * fuzz/README.md, "Findings"), which is harmless for kith (no stored instant is that old or that
 * far away) but would stop every fuzzing run at once if checked here.
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz_check.h"
#include "kith/clock.h"

#define YEAR_10000_MS INT64_C(253402300800000)

static int64_t floor_second_ms(int64_t ms)
{
    return (ms >= 0 ? ms / 1000 : (ms - 999) / 1000) * 1000;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fuzz_cstr(data, size);
    int64_t ms = 0;
    if (kith_time_parse(in, &ms)) {
        FUZZ_CHECK(ms >= 0 && ms < YEAR_10000_MS, "\"%s\" -> %lld is outside 1970..9999", in,
                   (long long)ms);
        {
            char text[32], again[32];
            int64_t back = -1;
            kith_time_format(ms, text);
            FUZZ_CHECK(kith_time_parse(text, &back), "\"%s\" -> %lld -> \"%s\" does not parse", in,
                       (long long)ms, text);
            FUZZ_CHECK(back == floor_second_ms(ms), "\"%s\" -> %lld -> \"%s\" -> %lld", in,
                       (long long)ms, text, (long long)back);
            kith_time_format(back, again);
            FUZZ_CHECK(strcmp(text, again) == 0, "\"%s\" formats as \"%s\" then \"%s\"", in, text,
                       again);
        }
        /* Lower case 't' and 'z' are RFC 3339's; the same instant either way. */
        char *upper = fuzz_cstr(data, strlen(in));
        for (char *c = upper; *c != '\0'; c++)
            if (*c == 't' || *c == 'z')
                *c = (char)(*c - 'a' + 'A');
        int64_t ms_upper = -1;
        FUZZ_CHECK(kith_time_parse(upper, &ms_upper) && ms_upper == ms,
                   "\"%s\" -> %lld but \"%s\" -> %lld", in, (long long)ms, upper,
                   (long long)ms_upper);
        free(upper);
    }
    free(in);
    return 0;
}
