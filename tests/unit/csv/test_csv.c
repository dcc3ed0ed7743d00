/*
 * test_csv.c: unit tests for src/csv: plain and quoted fields, doubled quotes, commas and line
 * breaks inside quotes, CRLF and LF, the byte order mark, empty fields and lines, physical line
 * numbers, every refusal (stray quote, text after a closing quote, bare CR, NUL, unterminated
 * quote, too many fields, too little scratch), and that a failed reader stays failed.
 */
#include "kith/csv.h"
#include "test.h"

struct parsed {
    enum kith_status st;
    size_t records;
    size_t line;    /* of the last record, or of the fault */
    char text[512]; /* records joined: fields by '|', records by ';' */
    char message[256];
};

static struct parsed parse(const char *in, size_t len)
{
    static char scratch[KITH_CSV_SCRATCH(4096)];
    struct parsed p = {0};
    struct kith_csv_reader r;
    struct kith_csv_record rec;
    struct kith_err err = {{0}, {0}};
    kith_csv_init(&r, in, len, scratch, sizeof(scratch));
    for (;;) {
        p.st = kith_csv_next(&r, &rec, &err);
        if (p.st != KITH_OK) {
            p.line = rec.line;
            kith_strlcpy(p.message, err.message, sizeof(p.message));
            return p;
        }
        if (rec.count == 0)
            return p;
        p.records++;
        p.line = rec.line;
        size_t n = strlen(p.text);
        for (size_t i = 0; i < rec.count; i++) {
            CHECK_INT(strlen(rec.field[i]), rec.len[i]);
            n += (size_t)snprintf(p.text + n, sizeof(p.text) - n, "%s%s", i ? "|" : "",
                                  rec.field[i]);
        }
        snprintf(p.text + n, sizeof(p.text) - n, ";");
    }
}

#define P(s) parse(s, sizeof(s) - 1)

static void test_plain(void)
{
    struct parsed p = P("slug,title\nleather-care,Leather care\n");
    CHECK_INT(p.st, KITH_OK);
    CHECK_INT(p.records, 2);
    CHECK_STR(p.text, "slug|title;leather-care|Leather care;");
    p = P("a,b\r\nc,d\r\n");
    CHECK_STR(p.text, "a|b;c|d;");
    /* No final line break: the last record still counts, once. */
    p = P("a,b\nc,d");
    CHECK_INT(p.records, 2);
    CHECK_STR(p.text, "a|b;c|d;");
    p = P("");
    CHECK_INT(p.st, KITH_OK);
    CHECK_INT(p.records, 0);
}

static void test_quoted(void)
{
    struct parsed p = P("\"a, b\",\"say \"\"hi\"\"\",\"\"\n");
    CHECK_INT(p.st, KITH_OK);
    CHECK_STR(p.text, "a, b|say \"hi\"|;");
    /* Line breaks inside quotes are data, and still count as lines of the file. */
    p = P("h\n\"two\nlines\",x\ny,z\n");
    CHECK_INT(p.st, KITH_OK);
    CHECK_INT(p.records, 3);
    CHECK_STR(p.text, "h;two\nlines|x;y|z;");
    CHECK_INT(p.line, 4);
    p = P("\"crlf\r\ninside\"\r\n");
    CHECK_STR(p.text, "crlf\r\ninside;");
    /* Non-ASCII passes through untouched. */
    p = P("caf\xc3\xa9,\"na\xc3\xafve\"\n");
    CHECK_STR(p.text, "caf\xc3\xa9|na\xc3\xafve;");
}

static void test_empty_fields_and_lines(void)
{
    struct parsed p = P(",,\n\nx\n");
    CHECK_INT(p.st, KITH_OK);
    CHECK_INT(p.records, 3);
    CHECK_STR(p.text, "||;;x;");
    CHECK_INT(p.line, 3);
    p = P("a,\n");
    CHECK_STR(p.text, "a|;");
    p = P("a,");
    CHECK_STR(p.text, "a|;");
}

static void test_bom(void)
{
    struct parsed p = P("\xEF\xBB\xBFslug,title\n");
    CHECK_STR(p.text, "slug|title;");
    /* Only at the very start. */
    p = P("a\n\xEF\xBB\xBF"
          "b\n");
    CHECK_STR(p.text, "a;\xEF\xBB\xBF"
                      "b;");
}

static void test_refusals(void)
{
    struct parsed p = P("a,b\nc\"d,e\n");
    CHECK_INT(p.st, KITH_E_INVALID_PARAM);
    CHECK_INT(p.line, 2);
    CHECK(strstr(p.message, "quote") != NULL);
    p = P("\"a\"b,c\n");
    CHECK_INT(p.st, KITH_E_INVALID_PARAM);
    CHECK_INT(p.line, 1);
    CHECK(strstr(p.message, "after a closing quote") != NULL);
    p = P("a\rb\n");
    CHECK_INT(p.st, KITH_E_INVALID_PARAM);
    CHECK(strstr(p.message, "carriage return") != NULL);
    p = P("\"a\"\rb\n");
    CHECK_INT(p.st, KITH_E_INVALID_PARAM);
    CHECK(strstr(p.message, "carriage return") != NULL);
    p = P("a\n\nb,\"open\nstill open\n");
    CHECK_INT(p.st, KITH_E_INVALID_PARAM);
    CHECK(strstr(p.message, "not closed") != NULL);
    CHECK_INT(p.line, 3);
    p = parse("a\0b\n", 4);
    CHECK_INT(p.st, KITH_E_INVALID_PARAM);
    CHECK(strstr(p.message, "NUL") != NULL);
    p = parse("\"a\0b\"\n", 6);
    CHECK_INT(p.st, KITH_E_INVALID_PARAM);
    char many[200];
    size_t m = 0;
    for (int i = 0; i < KITH_CSV_FIELDS_MAX + 1; i++)
        m += (size_t)snprintf(many + m, sizeof(many) - m, "%s", i ? ",x" : "x");
    p = parse(many, strlen(many));
    CHECK_INT(p.st, KITH_E_INVALID_PARAM);
    CHECK(strstr(p.message, "too many") != NULL);
    many[strlen(many) - 2] = '\0'; /* exactly the maximum */
    p = parse(many, strlen(many));
    CHECK_INT(p.st, KITH_OK);
}

static void test_scratch_bounds(void)
{
    static const char in[] = "abcdef,ghij\n";
    char scratch[KITH_CSV_SCRATCH(sizeof(in))];
    struct kith_csv_reader r;
    struct kith_csv_record rec;
    /* Any size below what the record needs is refused, never overrun. */
    for (size_t size = 1; size < 12; size++) {
        kith_csv_init(&r, in, sizeof(in) - 1, scratch, size);
        enum kith_status st = kith_csv_next(&r, &rec, NULL);
        CHECK_INT(st, KITH_E_INVALID_PARAM);
    }
    kith_csv_init(&r, in, sizeof(in) - 1, scratch, 12);
    CHECK_INT(kith_csv_next(&r, &rec, NULL), KITH_OK);
    CHECK_INT(rec.count, 2);
    CHECK_STR(rec.field[1], "ghij");
}

static void test_failed_stays_failed(void)
{
    static const char in[] = "a\"b\nc,d\n";
    char scratch[KITH_CSV_SCRATCH(sizeof(in))];
    struct kith_csv_reader r;
    struct kith_csv_record rec;
    kith_csv_init(&r, in, sizeof(in) - 1, scratch, sizeof(scratch));
    CHECK_INT(kith_csv_next(&r, &rec, NULL), KITH_E_INVALID_PARAM);
    CHECK_INT(kith_csv_next(&r, &rec, NULL), KITH_E_INVALID_PARAM);
    CHECK_INT(rec.count, 0);
}

int main(void)
{
    RUN(test_plain);
    RUN(test_quoted);
    RUN(test_empty_fields_and_lines);
    RUN(test_bom);
    RUN(test_refusals);
    RUN(test_scratch_bounds);
    RUN(test_failed_stays_failed);
    TEST_DONE();
}
