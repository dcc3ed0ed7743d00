/* Tests of src/qr: the SVG drawing of a libqrencode symbol (kith/qr.h). */
#include <stdlib.h>
#include <string.h>

#include "kith/qr.h"
#include "test.h"

static int view_size(const char *svg)
{
    const char *v = strstr(svg, "viewBox=\"0 0 ");
    return v ? (int)strtol(v + 13, NULL, 10) : -1;
}

static void test_finder_patterns_drawn(void)
{
    char *svg = kith_qr_svg("https://refer.example.com/r/JANE-2847?ch=qr", "QR code");
    CHECK(svg != NULL);
    if (svg == NULL)
        return;
    CHECK(strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0);
    CHECK(strstr(svg, "</svg>") != NULL);
    int size = view_size(svg), w = size - 8;
    /* Version 1..40 symbols are 21..177 modules wide, in steps of 4. */
    CHECK(w >= 21 && w <= 177 && (w - 21) % 4 == 0);
    /* The first row of the top-left and top-right finder patterns: seven dark modules. */
    char left[32], right[32];
    snprintf(left, sizeof(left), "M4 4h7v1h-7z");
    snprintf(right, sizeof(right), "M%d 4h7v1h-7z", 4 + w - 7);
    CHECK(strstr(svg, left) != NULL);
    CHECK(strstr(svg, right) != NULL);
    CHECK(strstr(svg, "<rect width=") != NULL);
    free(svg);
}

static void test_title_escaped(void)
{
    char *svg = kith_qr_svg("x", "<Jane & \"Sam\">");
    CHECK(svg != NULL);
    if (svg == NULL)
        return;
    CHECK(strstr(svg, "<title>&lt;Jane &amp; &quot;Sam&quot;&gt;</title>") != NULL);
    CHECK(strstr(svg, "aria-label=\"&lt;Jane &amp; &quot;Sam&quot;&gt;\"") != NULL);
    CHECK(strstr(svg, "<Jane") == NULL);
    free(svg);
    svg = kith_qr_svg("x", NULL);
    CHECK(svg != NULL && strstr(svg, "<title>") == NULL);
    free(svg);
}

static void test_refusals(void)
{
    char big[KITH_QR_TEXT_MAX + 2];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CHECK(kith_qr_svg("", "t") == NULL);
    CHECK(kith_qr_svg(NULL, "t") == NULL);
    CHECK(kith_qr_svg(big, "t") == NULL);
    big[KITH_QR_TEXT_MAX] = '\0';
    char *svg = kith_qr_svg(big, NULL); /* the longest text accepted still encodes */
    CHECK(svg != NULL);
    free(svg);
}

static void test_longer_text_bigger_symbol(void)
{
    char *a = kith_qr_svg("https://k.example/r/JO-1234", NULL);
    char *b =
        kith_qr_svg("https://k.example/r/JO-1234?ch=qr&a=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                    NULL);
    CHECK(a && b);
    if (a && b)
        CHECK(view_size(b) > view_size(a));
    free(a);
    free(b);
}

int main(void)
{
    RUN(test_finder_patterns_drawn);
    RUN(test_title_escaped);
    RUN(test_refusals);
    RUN(test_longer_text_bigger_symbol);
    TEST_DONE();
}
