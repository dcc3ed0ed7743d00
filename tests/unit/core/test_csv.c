/*
 * test_csv.c: the RFC 4180 reader (fields, quotes, line numbers, strictness) and writer (quoting,
 * the formula-injection guard), and that what the writer writes the reader reads back.
 */
#include "kith/csv.h"
#include "test.h"

/* Reads every record of text; returns the number read, or -(line) of the first error. */
static long read_all(const char *text, struct kith_csv_record *last)
{
    struct kith_csv_reader r;
    struct kith_err err;
    long n = 0;
    kith_csv_reader_init(&r, text, strlen(text));
    for (;;) {
        enum kith_status st = kith_csv_next(&r, last, &err);
        if (st == KITH_E_NOT_FOUND)
            return n;
        if (st != KITH_OK)
            return -(long)last->line;
        n++;
    }
}

static void test_plain_fields_and_lines(void)
{
    struct kith_csv_reader r;
    struct kith_csv_record rec = {0};
    struct kith_err err;
    const char *text = "a,b,c\r\n1,,3\n\nx,y,z";
    kith_csv_reader_init(&r, text, strlen(text));
    CHECK_INT(kith_csv_next(&r, &rec, &err), KITH_OK);
    CHECK_INT(rec.count, 3);
    CHECK_INT(rec.line, 1);
    CHECK_STR(rec.fields[0], "a");
    CHECK_STR(rec.fields[2], "c");
    CHECK_INT(kith_csv_next(&r, &rec, &err), KITH_OK);
    CHECK_INT(rec.line, 2);
    CHECK_STR(rec.fields[1], "");
    CHECK_INT(rec.lens[1], 0);
    CHECK_STR(rec.fields[2], "3");
    CHECK_INT(kith_csv_next(&r, &rec, &err), KITH_OK);
    CHECK_INT(rec.line, 4); /* the blank line 3 is skipped but counted */
    CHECK_STR(rec.fields[0], "x");
    CHECK_STR(rec.fields[2], "z");
    CHECK_INT(kith_csv_next(&r, &rec, &err), KITH_E_NOT_FOUND);
    kith_csv_record_dispose(&rec);
}

static void test_quoted_fields(void)
{
    struct kith_csv_reader r;
    struct kith_csv_record rec = {0};
    struct kith_err err;
    const char *text = "\xEF\xBB\xBF\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"\n\"\",last\n";
    kith_csv_reader_init(&r, text, strlen(text));
    CHECK_INT(kith_csv_next(&r, &rec, &err), KITH_OK);
    CHECK_INT(rec.count, 3);
    CHECK_STR(rec.fields[0], "a,b");
    CHECK_STR(rec.fields[1], "say \"hi\"");
    CHECK_STR(rec.fields[2], "two\nlines");
    CHECK_INT(kith_csv_next(&r, &rec, &err), KITH_OK);
    CHECK_INT(rec.line, 3); /* the first record took lines 1 and 2 */
    CHECK_STR(rec.fields[0], "");
    CHECK_STR(rec.fields[1], "last");
    CHECK_INT(kith_csv_next(&r, &rec, &err), KITH_E_NOT_FOUND);
    kith_csv_record_dispose(&rec);
}

static void test_strict_errors_name_the_line(void)
{
    struct kith_csv_record rec = {0};
    CHECK_INT(read_all("a,b\n\"open,c\n", &rec), -2);
    CHECK_INT(read_all("a,b\nx,y\nJane \"JJ\",z\n", &rec), -3);
    CHECK_INT(read_all("a,b\n\"x\"y,z\n", &rec), -2);
    char nul[] = "a,b\nx,y\0z\n";
    struct kith_csv_reader r;
    struct kith_err err;
    kith_csv_reader_init(&r, nul, sizeof(nul) - 1);
    CHECK_INT(kith_csv_next(&r, &rec, &err), KITH_OK);
    CHECK_INT(kith_csv_next(&r, &rec, &err), KITH_E_INVALID_PARAM);
    CHECK_INT(rec.line, 2);
    CHECK_INT(kith_csv_next(&r, &rec, &err), KITH_E_INVALID_PARAM); /* stays stopped */
    struct kith_buf many = {0};
    for (int i = 0; i <= KITH_CSV_FIELDS_MAX; i++)
        kith_buf_str(&many, i ? ",x" : "x");
    CHECK_INT(read_all(kith_buf_cstr(&many), &rec), -1);
    kith_buf_dispose(&many);
    CHECK_INT(read_all("", &rec), 0);
    CHECK_INT(read_all("\n\r\n", &rec), 0);
    kith_csv_record_dispose(&rec);
}

static void test_writer_quotes_and_guards(void)
{
    struct kith_buf b = {0};
    const char *cells[] = {"plain", "a,b",  "say \"hi\"", "=SUM(A1:A9)", "+1",
                           "-2",    "@cmd", "=x,y",       NULL,          "two\nlines"};
    kith_csv_row(&b, cells, KITH_ARRAY_LEN(cells));
    CHECK_STR(kith_buf_cstr(&b),
              "plain,\"a,b\",\"say \"\"hi\"\"\",'=SUM(A1:A9),'+1,'-2,'@cmd,\"'=x,y\",,\"two\n"
              "lines\"\r\n");
    CHECK(kith_csv_needs_guard("=1"));
    CHECK(!kith_csv_needs_guard("1="));
    CHECK(!kith_csv_needs_guard(""));
    CHECK(!kith_csv_needs_guard(NULL));

    /* The reader gives back what the writer wrote (guard included). */
    struct kith_csv_reader r;
    struct kith_csv_record rec = {0};
    struct kith_err err;
    kith_csv_reader_init(&r, b.data, b.len);
    CHECK_INT(kith_csv_next(&r, &rec, &err), KITH_OK);
    CHECK_INT(rec.count, KITH_ARRAY_LEN(cells));
    CHECK_STR(rec.fields[1], "a,b");
    CHECK_STR(rec.fields[2], "say \"hi\"");
    CHECK_STR(rec.fields[3], "'=SUM(A1:A9)");
    CHECK_STR(rec.fields[7], "'=x,y");
    CHECK_STR(rec.fields[8], "");
    CHECK_STR(rec.fields[9], "two\nlines");
    CHECK_INT(kith_csv_next(&r, &rec, &err), KITH_E_NOT_FOUND);
    kith_csv_record_dispose(&rec);
    kith_buf_dispose(&b);
}

int main(void)
{
    RUN(test_plain_fields_and_lines);
    RUN(test_quoted_fields);
    RUN(test_strict_errors_name_the_line);
    RUN(test_writer_quotes_and_guards);
    TEST_DONE();
}
