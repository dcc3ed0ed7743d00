/*
 * import.c: `kith import participants FILE.csv [--program P] [--dry-run] [--db PATH|URL]`. Reads
 * the file (or standard input for `-`), runs the engine's import (src/engine/imports.c) as one
 * store job, and reports: every mistake as `FILE:LINE: column: message` on stderr (exit 1,
 * nothing written), or on success each imported person as a CSV row `external_id,id,code` on
 * stdout (so a script learns the codes kith made) and a summary on stderr. With --dry-run the
 * job runs whole and is rolled back: the file is checked against the database as it is, and
 * nothing stays. It is not for the rules of an import: those are the engine's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "kith/clock.h"
#include "kith/crypto.h"
#include "kith/csv.h"
#include "kith/engine.h"
#include "kith/store.h"

#define IMPORT_FILE_MAX (64u << 20) /* 64 MiB: some 200,000 people with room to spare */

struct import_job {
    const struct kith_engine *eng;
    const char *program; /* NULL: the only program */
    const char *data;
    size_t len;
    bool dry_run;
    json_t *out;
    enum kith_status st; /* the import's own answer */
    struct kith_err err;
};

static enum kith_status import_job(struct kith_tx *tx, void *arg)
{
    struct import_job *j = arg;
    json_decref(j->out); /* a retried job starts again */
    j->out = NULL;
    j->st = kith_engine_import_participants(tx, j->eng, j->program, j->data, j->len,
                                            kith_clock_now_ms(), &j->out, &j->err);
    if (j->st == KITH_OK && j->dry_run)
        return KITH_E_INVALID_STATE; /* everything checked and written: now undo it */
    return j->st;
}

/* Reads path ("-": standard input) whole, at most IMPORT_FILE_MAX bytes. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (buf == NULL)
        abort();
    for (;;) {
        if (n == cap) {
            if (cap >= IMPORT_FILE_MAX) {
                fprintf(stderr, "kith import: %s is over %u MiB: split it (referrers first)\n",
                        path, IMPORT_FILE_MAX >> 20);
                free(buf);
                buf = NULL;
                break;
            }
            cap *= 2;
            buf = realloc(buf, cap);
            if (buf == NULL)
                abort();
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                perror(path);
                free(buf);
                buf = NULL;
            }
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    *len = n;
    return buf;
}

static void print_written(json_t *written)
{
    struct kith_buf b = {0};
    static const char *const header[] = {"external_id", "id", "code"};
    size_t i;
    json_t *w;
    kith_csv_row(&b, header, 3);
    json_array_foreach(written, i, w)
    {
        const char *cells[] = {json_string_value(json_object_get(w, "external_id")),
                               json_string_value(json_object_get(w, "id")),
                               json_string_value(json_object_get(w, "code"))};
        kith_csv_row(&b, cells, 3);
    }
    fwrite(b.data, 1, b.len, stdout);
    kith_buf_dispose(&b);
}

static int usage(void)
{
    fprintf(stderr, "usage: kith import participants FILE.csv [--program P] [--dry-run] "
                    "[--db PATH|URL] (see kith import --help)\n");
    return 2;
}

int kith_cli_import(int argc, char **argv)
{
    static const char *const switches[] = {"--dry-run", NULL};
    struct kith_config *conf = NULL;
    struct kith_app_config cfg;
    struct kith_store *store = NULL;
    struct kith_engine eng;
    struct import_job j = {.eng = &eng};
    const char *path = NULL;
    char *data = NULL;
    int rc = 2;
    if (argc < 1 || strcmp(argv[0], "participants") != 0)
        return usage();
    /* --program and --dry-run are this command's own; other flags are settings. */
    char **rest = calloc((size_t)argc + 1, sizeof(*rest));
    int nrest = 0;
    if (rest == NULL)
        abort();
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--dry-run") == 0) {
            j.dry_run = true;
        } else if (strcmp(argv[a], "--program") == 0 && a + 1 < argc) {
            j.program = argv[++a];
        } else if (strncmp(argv[a], "--program=", 10) == 0) {
            j.program = argv[a] + 10;
        } else if (strncmp(argv[a], "--", 2) == 0) {
            rest[nrest++] = argv[a];
            if (kith_cli_takes_value(argv[a], switches) && a + 1 < argc)
                rest[nrest++] = argv[++a];
        } else if (path == NULL) {
            path = argv[a];
        } else {
            fprintf(stderr, "kith import: one file, please\n");
            goto out;
        }
    }
    if (path == NULL) {
        rc = usage();
        goto out;
    }
    if (!kith_cli_load_config(KITH_CONFIG_CMD_KEYS, nrest, rest, &cfg, &conf))
        goto out;
    rc = 1;
    if ((data = read_file(path, &j.len)) == NULL)
        goto out;
    j.data = data;
    memset(&eng, 0, sizeof(eng));
    if (kith_crypto_init(&j.err) != KITH_OK ||
        kith_store_open(cfg.db_path, &store, &j.err) != KITH_OK) {
        fprintf(stderr, "kith import: %s\n", j.err.message);
        goto out;
    }
    enum kith_status st = kith_store_run(store, import_job, &j);
    kith_store_close(store);
    if (j.st == KITH_OK && (st == KITH_OK || j.dry_run)) {
        json_t *o = j.out;
        long long people = (long long)json_integer_value(json_object_get(o, "participants"));
        long long kept = (long long)json_integer_value(json_object_get(o, "kept_codes"));
        long long refs = (long long)json_integer_value(json_object_get(o, "referrals"));
        const char *prog = json_string_value(json_object_get(o, "program"));
        if (j.dry_run) {
            fprintf(stderr,
                    "kith import: %s is good: %lld participant%s (%lld with the code they "
                    "bring), %lld referral%s for %s. --dry-run: nothing was written.\n",
                    path, people, people == 1 ? "" : "s", kept, refs, refs == 1 ? "" : "s", prog);
        } else {
            print_written(json_object_get(o, "written"));
            fprintf(stderr,
                    "kith import: imported %lld participant%s into %s (%lld kept the code they "
                    "bring, %lld got a new one) and %lld referral%s\n",
                    people, people == 1 ? "" : "s", prog, kept, people - kept, refs,
                    refs == 1 ? "" : "s");
        }
        rc = 0;
        goto out;
    }
    json_t *errors = json_object_get(j.out, "errors");
    if (j.st == KITH_E_INVALID_PARAM && errors) {
        size_t i;
        json_t *e;
        json_array_foreach(errors, i, e)
        {
            const char *param = json_string_value(json_object_get(e, "param"));
            fprintf(stderr, "%s:%lld: %s%s%s\n", path,
                    (long long)json_integer_value(json_object_get(e, "line")), param ? param : "",
                    param ? ": " : "", json_string_value(json_object_get(e, "message")));
        }
    }
    fprintf(stderr, "kith import: %s\n",
            j.st != KITH_OK ? j.err.message : "the database could not commit the import");
out:
    json_decref(j.out);
    free(data);
    free(rest);
    kith_config_destroy(conf);
    return rc;
}
