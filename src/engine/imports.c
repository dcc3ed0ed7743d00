/*
 * imports.c: moving in from another tool (`kith import participants FILE.csv`). A business
 * that already runs a referral program brings its people with the codes they already share, and
 * who referred whom, so no advocate's printed code or old link stops working. The file is read
 * and checked whole, in one transaction: every mistake is reported with its line, and a file
 * with any mistake writes nothing.
 *
 * Choices the contract leaves to us (docs/api/README.md, "Moving in"):
 * - `code` is kept exactly as the person's primary code, checked like a vanity alias
 *   ([A-Z0-9-]{3,9} after uppercasing, unique under normalisation across the server); an empty
 *   `code` gets a new one as POST /v1/participants would make.
 * - `referred_by` is the code of who referred the person (one kept in the same file, in any
 *   line, or any code already in this program); the referral is created `pending`, attributed
 *   `source: "code"` (a code the business typed in for them), not fraud-scored (the old tool
 *   decided that; scoring a whole history at once would flag every advocate as too fast), with
 *   the qualification window starting at the import.
 * - An import is a move, not news: it sends no webhook and no notification.
 * It is not for the CSV syntax (src/core/csv.c) nor for reading the file (src/cli).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "engine/health.h"
#include "engine/internal.h"
#include "kith/codes.h"
#include "kith/crypto.h"
#include "kith/csv.h"
#include "kith/fraud.h"
#include "kith/text.h"

#define IMPORT_ROWS_MAX 200000

enum column { COL_EXTERNAL_ID, COL_EMAIL, COL_FIRST_NAME, COL_CODE, COL_REFERRED_BY, COL_COUNT };
static const char *const column_names[COL_COUNT] = {"external_id", "email", "first_name", "code",
                                                    "referred_by"};

/* What the second pass (referrals) needs of each row. */
struct row {
    size_t line;
    char id[KITH_ID_MAX];          /* the participant, once written */
    char referral_id[KITH_ID_MAX]; /* "" when not referred */
    char *external_id;
    char *email_norm;             /* NULL when none */
    char code[KITH_CODE_MAX + 1]; /* the kept code, "" when the row gets a new one */
    char ref_typed[72];
    char ref_norm[KITH_CODE_NORM_MAX + 1];
};

/* In-file indexes: external ids and kept codes (normal form) to their row. */
struct entry {
    const char *key; /* borrowed from the row or the index's own copy */
    char *own;
    size_t row;
    UT_hash_handle hh;
};

struct problem {
    size_t line, seq;
    const char *param; /* static */
    char message[200];
};

struct import {
    struct kith_tx *tx;
    const struct kith_engine *eng;
    struct prog p;
    int64_t now_ms;
    struct row *rows;
    size_t nrows, cap;
    struct entry *by_external, *by_code;
    struct problem *problems;
    size_t nproblems, pcap;
    json_t *written; /* [{external_id, id, code}] */
    size_t kept_codes, referrals;
};

static void problem(struct import *im, size_t line, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void problem(struct import *im, size_t line, const char *param, const char *fmt, ...)
{
    if (im->nproblems == im->pcap) {
        im->pcap = im->pcap ? im->pcap * 2 : 16;
        im->problems = realloc(im->problems, im->pcap * sizeof(*im->problems));
        if (im->problems == NULL)
            abort();
    }
    struct problem *pr = &im->problems[im->nproblems];
    pr->line = line;
    pr->seq = im->nproblems++;
    pr->param = param;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pr->message, sizeof(pr->message), fmt, ap);
    va_end(ap);
}

static int problem_order(const void *a, const void *b)
{
    const struct problem *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static char *dup_or_abort(const char *s)
{
    char *d = strdup(s);
    if (d == NULL)
        abort();
    return d;
}

static void index_add(struct entry **index, const char *key, size_t row)
{
    struct entry *e = calloc(1, sizeof(*e));
    if (e == NULL)
        abort();
    e->own = dup_or_abort(key);
    e->key = e->own;
    e->row = row;
    HASH_ADD_KEYPTR(hh, *index, e->key, strlen(e->key), e);
}

static struct entry *index_find(struct entry *index, const char *key)
{
    struct entry *e = NULL;
    HASH_FIND_STR(index, key, e);
    return e;
}

static void index_free(struct entry **index)
{
    struct entry *e, *t;
    HASH_ITER(hh, *index, e, t)
    {
        HASH_DEL(*index, e);
        free(e->own);
        free(e);
    }
}

/* A cell without the spaces and tabs around it, copied into out (a new string) when not empty. */
static char *trimmed(const char *s, size_t len)
{
    while (len > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len == 0)
        return NULL;
    char *out = malloc(len + 1);
    if (out == NULL)
        abort();
    memcpy(out, s, len);
    out[len] = '\0';
    return out;
}

/* Reads the header: which column each field is. false after reporting what is wrong. */
static bool read_header(struct import *im, const struct kith_csv_record *rec, int map[])
{
    bool seen[COL_COUNT] = {false}, ok = true;
    for (size_t i = 0; i < rec->count; i++) {
        char *name = trimmed(rec->fields[i], rec->lens[i]);
        map[i] = -1;
        for (char *c = name; c && *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                *c = (char)(*c - 'A' + 'a');
        for (int c = 0; name && c < COL_COUNT; c++)
            if (strcmp(name, column_names[c]) == 0)
                map[i] = c;
        if (map[i] < 0) {
            problem(im, rec->line, "header",
                    "unknown column '%.60s': the columns are external_id, email, first_name, "
                    "code, referred_by",
                    name ? name : "");
            ok = false;
        } else if (seen[map[i]]) {
            problem(im, rec->line, column_names[map[i]], "the column '%s' is named twice",
                    column_names[map[i]]);
            ok = false;
        } else {
            seen[map[i]] = true;
        }
        free(name);
    }
    if (!seen[COL_EXTERNAL_ID]) {
        problem(im, rec->line, "external_id", "the header must name an 'external_id' column");
        ok = false;
    }
    return ok;
}

/* Looks a normalised code up in the database: *row (the owner's row and `matched`) or NULL. */
static enum kith_status code_owner(struct import *im, const char *norm, json_t **row)
{
    json_t *args = json_pack("[s]", norm);
    enum kith_status st = kith_store_query_one(im->tx, KITH_Q_CODES_FIND, args, row);
    json_decref(args);
    if (st == KITH_E_NOT_FOUND) {
        *row = NULL;
        return KITH_OK;
    }
    return st;
}

/* The shape kith's own codes have: 1-4 letters, a dash, 4 digits (their prefix is counted). */
static size_t digit_code_prefix(const char *code)
{
    size_t n = 0;
    while (code[n] >= 'A' && code[n] <= 'Z')
        n++;
    if (n < 1 || n > KITH_CODE_PREFIX_MAX || code[n] != '-')
        return 0;
    for (size_t i = 1; i <= KITH_CODE_SUFFIX_LEN; i++)
        if (code[n + i] < '0' || code[n + i] > '9')
            return 0;
    return code[n + 1 + KITH_CODE_SUFFIX_LEN] == '\0' ? n : 0;
}

enum kith_status kith_eng_code_keep(struct kith_tx *tx, const char *participant, const char *code,
                                    int64_t now_ms, char out[16], struct kith_err *err)
{
    char norm[KITH_CODE_NORM_MAX + 1];
    if (!kith_code_normalize(code, norm) || strlen(code) > KITH_CODE_MAX)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "code", "'code' is not a code");
    json_t *args = json_pack("[ssssI]", norm, code, participant, "primary", (json_int_t)now_ms);
    enum kith_status st = kith_store_exec(tx, KITH_Q_CODES_INSERT, args, NULL);
    json_decref(args);
    if (st == KITH_E_CONSTRAINT)
        return kith_err_set(err, KITH_E_CODE_TAKEN, "code", "the code %s is taken", code);
    if (st != KITH_OK)
        return kith_err_set(err, st, NULL, "the database could not store the code");
    /* A kept JANE-2847 uses one of JANE's 10,000 suffixes: count it as kith's own would be. */
    size_t plen = digit_code_prefix(code);
    if (plen > 0) {
        char prefix[KITH_CODE_PREFIX_MAX + 1];
        memcpy(prefix, code, plen);
        prefix[plen] = '\0';
        args = json_pack("[s]", prefix);
        st = kith_store_exec(tx, KITH_Q_PREFIX_BUMP, args, NULL);
        json_decref(args);
        if (st != KITH_OK)
            return kith_err_set(err, st, NULL, "the database could not count the code");
    }
    kith_strlcpy(out, code, 16);
    return KITH_OK;
}

/* Checks one data row and, while the file has no mistake yet, writes its participant. */
static enum kith_status first_pass(struct import *im, const struct kith_csv_record *rec,
                                   const int map[], size_t ncols, struct kith_err *err)
{
    char *cell[COL_COUNT] = {NULL};
    json_t *body = json_object(), *fields = json_object(), *person = NULL;
    enum kith_status st = KITH_OK;
    size_t before = im->nproblems;
    char canon[KITH_CODE_MAX + 1] = "", norm[KITH_CODE_NORM_MAX + 1] = "";
    if (im->nrows == im->cap) {
        im->cap = im->cap ? im->cap * 2 : 256;
        im->rows = realloc(im->rows, im->cap * sizeof(*im->rows));
        if (im->rows == NULL)
            abort();
    }
    struct row *r = &im->rows[im->nrows];
    memset(r, 0, sizeof(*r));
    r->line = rec->line;
    if (rec->count != ncols) {
        problem(im, rec->line, NULL, "%zu fields where the header has %zu", rec->count, ncols);
        goto out;
    }
    for (size_t i = 0; i < rec->count; i++) {
        enum column c = (enum column)map[i];
        cell[c] = trimmed(rec->fields[i], rec->lens[i]);
        if (cell[c] && !kith_valid_utf8(cell[c], strlen(cell[c]))) {
            problem(im, rec->line, column_names[c], "'%s' is not UTF-8 text", column_names[c]);
            free(cell[c]);
            cell[c] = NULL;
            continue;
        }
        if (cell[c] && c <= COL_FIRST_NAME)
            json_object_set_new(body, column_names[c], json_string(cell[c]));
    }
    if (im->nproblems > before)
        goto out;
    /* The person fields, by the rules POST /v1/participants applies. */
    struct kith_err ferr = {{0}, {0}};
    if (kith_eng_participant_fields(body, im->eng, fields, &ferr) != KITH_OK) {
        const char *param = NULL;
        for (int c = 0; c < COL_COUNT; c++)
            if (strcmp(ferr.param, column_names[c]) == 0)
                param = column_names[c];
        problem(im, rec->line, param, "%s", ferr.message);
        goto out;
    }
    r->external_id = dup_or_abort(cell[COL_EXTERNAL_ID]);
    if (kith_eng_row_str(fields, "email_norm"))
        r->email_norm = dup_or_abort(kith_eng_row_str(fields, "email_norm"));
    struct entry *same = index_find(im->by_external, r->external_id);
    if (same) {
        problem(im, rec->line, "external_id", "the external_id '%.80s' is also on line %zu",
                r->external_id, im->rows[same->row].line);
    } else {
        index_add(&im->by_external, r->external_id, im->nrows);
        json_t *existing = NULL;
        st = kith_eng_participant_by_external(im->tx, im->p.id, r->external_id, &existing);
        json_decref(existing);
        if (st == KITH_OK)
            problem(im, rec->line, "external_id",
                    "'%.80s' is already a participant of %s (an import only adds people)",
                    r->external_id, im->p.id);
        else if (st != KITH_E_NOT_FOUND)
            goto fail;
        st = KITH_OK;
    }
    if (cell[COL_CODE]) {
        json_t *owner = NULL;
        if (!kith_code_alias_canonical(cell[COL_CODE], canon) ||
            !kith_code_normalize(canon, norm)) {
            problem(im, rec->line, "code", "'code' must be 3 to 9 letters, digits or dashes");
        } else if ((same = index_find(im->by_code, norm)) != NULL) {
            problem(im, rec->line, "code", "the code %s is also on line %zu", canon,
                    im->rows[same->row].line);
        } else if ((st = code_owner(im, norm, &owner)) != KITH_OK) {
            goto fail;
        } else if (owner) {
            problem(im, rec->line, "code", "the code %s is taken (codes are never reused)", canon);
            json_decref(owner);
        } else {
            index_add(&im->by_code, norm, im->nrows);
            kith_strlcpy(r->code, canon, sizeof(r->code));
        }
    }
    if (cell[COL_REFERRED_BY]) {
        kith_strlcpy(r->ref_typed, cell[COL_REFERRED_BY], sizeof(r->ref_typed));
        if (strlen(cell[COL_REFERRED_BY]) >= sizeof(r->ref_typed) ||
            !kith_code_normalize(cell[COL_REFERRED_BY], r->ref_norm))
            problem(im, rec->line, "referred_by", "'referred_by' must be a code");
        else
            kith_crypto_random_id("ref_", r->referral_id);
    }
    if (im->nproblems > 0)
        goto out; /* the file will write nothing: only look for more mistakes */

    if (canon[0]) {
        json_object_set_new(fields, "code", json_string(canon));
        im->kept_codes++;
    }
    if (r->referral_id[0])
        json_object_set_new(fields, "referred_by", json_string(r->referral_id));
    st = kith_eng_participant_insert(im->tx, im->eng, &im->p, fields, im->now_ms, &person, err);
    if (st == KITH_E_CONSTRAINT || st == KITH_E_CODE_TAKEN) {
        /* Someone else wrote the same person or code since we looked. */
        problem(im, rec->line, st == KITH_E_CODE_TAKEN ? "code" : "external_id",
                "taken while the import ran; run it again");
        st = KITH_OK;
        goto out;
    }
    if (st != KITH_OK)
        goto out;
    kith_strlcpy(r->id, kith_eng_row_str(person, "id"), sizeof(r->id));
    json_array_append_new(im->written,
                          json_pack("{s:s,s:s,s:s}", "external_id", r->external_id, "id", r->id,
                                    "code", kith_eng_row_str(person, "code")));
    goto out;
fail:
    st = kith_err_set(err, st, NULL, "the database could not read participants and codes");
out:
    im->nrows++; /* kept even when refused, so its strings are freed with the rest */
    for (int c = 0; c < COL_COUNT; c++)
        free(cell[c]);
    json_decref(body);
    json_decref(fields);
    json_decref(person);
    return st;
}

/* Writes the referral of row r to the referrer (id, canonical code that matched). */
static enum kith_status write_referral(struct import *im, const struct row *r,
                                       const char *referrer_id, const char *code,
                                       struct kith_err *err)
{
    json_t *ref = json_object();
    json_object_set_new(ref, "id", json_string(r->referral_id));
    json_object_set_new(ref, "program", json_string(im->p.id));
    json_object_set_new(ref, "referrer", json_string(referrer_id));
    json_object_set_new(ref, "referred", json_string(r->id));
    json_object_set_new(ref, "code", json_string(code));
    json_object_set_new(ref, "source", json_string("code"));
    json_object_set_new(ref, "status", json_string("pending"));
    json_object_set_new(ref, "fraud_score", json_integer(0));
    json_object_set_new(ref, "fraud_flags", json_string("[]"));
    /* Kept so that the sequential-e-mail signal sees imported friends among earlier ones. */
    char domain[256], stem[256];
    bool digits = false;
    if (r->email_norm &&
        kith_fraud_email_stem(r->email_norm, domain, sizeof(domain), stem, sizeof(stem), &digits)) {
        json_object_set_new(ref, "email_domain", json_string(domain));
        json_object_set_new(ref, "email_stem", json_string(stem));
    }
    json_object_set_new(ref, "created_at", json_integer(im->now_ms));
    json_object_set_new(ref, "expires_at",
                        json_integer(im->now_ms + im->p.within_days * KITH_MS_PER_DAY));
    json_object_set_new(ref, "updated_at", json_integer(im->now_ms));
    enum kith_status st = kith_store_insert(im->tx, "referrals", ref);
    if (st == KITH_OK) /* health rollups, the experiment's variant (sections 22, 23) */
        st = kith_eng_health_referral_created(im->tx, ref);
    json_decref(ref);
    if (st != KITH_OK)
        return kith_err_set(err, st == KITH_E_CONSTRAINT ? KITH_E_UNAVAILABLE : st, NULL,
                            "the database could not store the referral");
    im->referrals++;
    return KITH_OK;
}

/* Resolves every referred_by and, when the file has no mistake, writes the referrals. */
static enum kith_status second_pass(struct import *im, struct kith_err *err)
{
    for (size_t i = 0; i < im->nrows; i++) {
        struct row *r = &im->rows[i];
        if (!r->referral_id[0])
            continue;
        struct entry *in_file = index_find(im->by_code, r->ref_norm);
        json_t *owner = NULL;
        char referrer[KITH_ID_MAX] = "", code[16] = "";
        if (in_file) {
            const struct row *q = &im->rows[in_file->row];
            bool same_email =
                r->email_norm && q->email_norm && strcmp(r->email_norm, q->email_norm) == 0;
            if (q == r || same_email) {
                problem(im, r->line, "referred_by", "self_referral: %s is this person's own",
                        r->ref_typed);
                continue;
            }
            kith_strlcpy(referrer, q->id, sizeof(referrer));
            kith_strlcpy(code, q->code, sizeof(code));
        } else {
            enum kith_status st = code_owner(im, r->ref_norm, &owner);
            if (st != KITH_OK)
                return kith_err_set(err, st, NULL, "the database could not read codes");
            if (owner == NULL) {
                problem(im, r->line, "referred_by",
                        "unknown_code: no participant has the code %s (a code kept in this file "
                        "or one kith already knows)",
                        r->ref_typed);
                continue;
            }
            const char *why = NULL;
            if (strcmp(kith_eng_row_str(owner, "program"), im->p.id) != 0)
                why = "other_program: the code belongs to another program";
            else if (strcmp(kith_eng_row_str(owner, "status"), "active") != 0 ||
                     kith_eng_row_int(owner, "erased") != 0)
                why = "referrer_blocked: the code belongs to a blocked or erased participant";
            else if (r->email_norm && kith_eng_row_str(owner, "email_norm") &&
                     strcmp(r->email_norm, kith_eng_row_str(owner, "email_norm")) == 0)
                why = "self_referral: the code belongs to this person's own e-mail";
            if (why) {
                problem(im, r->line, "referred_by", "%s (%s)", why, r->ref_typed);
                json_decref(owner);
                continue;
            }
            kith_strlcpy(referrer, kith_eng_row_str(owner, "id"), sizeof(referrer));
            kith_strlcpy(code, kith_eng_row_str(owner, "matched"), sizeof(code));
        }
        json_decref(owner);
        if (im->nproblems > 0)
            continue;
        enum kith_status st = write_referral(im, r, referrer, code, err);
        if (st != KITH_OK)
            return st;
    }
    return KITH_OK;
}

static json_t *problems_json(struct import *im)
{
    qsort(im->problems, im->nproblems, sizeof(*im->problems), problem_order);
    json_t *list = json_array();
    for (size_t i = 0; i < im->nproblems; i++) {
        const struct problem *pr = &im->problems[i];
        json_array_append_new(list,
                              json_pack("{s:I,s:o,s:s}", "line", (json_int_t)pr->line, "param",
                                        pr->param ? json_string(pr->param) : json_null(), "message",
                                        pr->message));
    }
    return json_pack("{s:o}", "errors", list);
}

enum kith_status kith_engine_import_participants(struct kith_tx *tx, const struct kith_engine *eng,
                                                 const char *program, const char *csv, size_t len,
                                                 int64_t now_ms, json_t **out, struct kith_err *err)
{
    struct import im = {.tx = tx, .eng = eng, .now_ms = now_ms, .written = json_array()};
    struct kith_csv_reader rd;
    struct kith_csv_record rec = {0};
    struct kith_err cerr = {{0}, {0}};
    int map[KITH_CSV_FIELDS_MAX];
    size_t ncols = 0;
    enum kith_status st;
    *out = NULL;
    if ((st = kith_eng_prog_resolve(tx, program, &im.p, err)) != KITH_OK)
        goto out;
    kith_csv_reader_init(&rd, csv, len);
    st = kith_csv_next(&rd, &rec, &cerr);
    if (st == KITH_E_NOT_FOUND) {
        problem(&im, 1, "header", "the file is empty: it needs a header row (external_id, ...)");
    } else if (st != KITH_OK) {
        problem(&im, rec.line, NULL, "%s", cerr.message);
    } else if (read_header(&im, &rec, map)) {
        ncols = rec.count;
        while ((st = kith_csv_next(&rd, &rec, &cerr)) == KITH_OK) {
            if (im.nrows == IMPORT_ROWS_MAX) {
                problem(&im, rec.line, NULL,
                        "more than %d people: split the file (referrers before the people they "
                        "referred)",
                        IMPORT_ROWS_MAX);
                break;
            }
            if ((st = first_pass(&im, &rec, map, ncols, err)) != KITH_OK)
                goto out;
        }
        if (st == KITH_E_INVALID_PARAM)
            problem(&im, rec.line, NULL, "%s", cerr.message);
        if (im.nrows == 0 && im.nproblems == 0)
            problem(&im, 1, NULL, "the file has a header and no one under it");
        if ((st = second_pass(&im, err)) != KITH_OK)
            goto out;
    }
    if (im.nproblems > 0) {
        *out = problems_json(&im);
        st = kith_err_set(err, KITH_E_INVALID_PARAM, NULL,
                          "%zu mistake%s in the file; nothing "
                          "was written",
                          im.nproblems, im.nproblems == 1 ? "" : "s");
        goto out;
    }
    *out = json_pack("{s:s,s:I,s:I,s:I,s:O}", "program", im.p.id, "participants",
                     (json_int_t)im.nrows, "kept_codes", (json_int_t)im.kept_codes, "referrals",
                     (json_int_t)im.referrals, "written", im.written);
    st = KITH_OK;
out:
    kith_csv_record_dispose(&rec);
    for (size_t i = 0; i < im.nrows; i++) {
        free(im.rows[i].external_id);
        free(im.rows[i].email_norm);
    }
    free(im.rows);
    free(im.problems);
    index_free(&im.by_external);
    index_free(&im.by_code);
    json_decref(im.written);
    return st;
}
