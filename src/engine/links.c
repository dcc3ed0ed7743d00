/*
 * links.c: the engine's side of the redirect path. Resolving a code happens once per code (the
 * HTTP layer caches the answer); clicks arrive in batches and are written in one statement each
 * inside one transaction. The redirect rules themselves (bot test, Location, cookie, counting)
 * live in src/links.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/health.h"
#include "engine/internal.h"
#include "engine/pages.h"
#include "kith/codes.h"

enum kith_status kith_engine_link_resolve(struct kith_tx *tx, const char *code,
                                          struct kith_link *out)
{
    char norm[KITH_CODE_NORM_MAX + 1];
    struct prog p;
    json_t *row = NULL;
    memset(out, 0, sizeof(*out));
    if (!kith_code_normalize(code, norm))
        return KITH_E_NOT_FOUND;
    json_t *args = json_pack("[s]", norm);
    enum kith_status st = kith_store_query_one(tx, KITH_Q_CODES_FIND, args, &row);
    json_decref(args);
    if (st != KITH_OK)
        return st;
    if ((st = kith_eng_prog_load(tx, kith_eng_row_str(row, "program"), &p, NULL)) != KITH_OK) {
        json_decref(row);
        return st;
    }
    kith_strlcpy(out->code, kith_eng_row_str(row, "matched"), sizeof(out->code));
    kith_strlcpy(out->participant, kith_eng_row_str(row, "participant"), sizeof(out->participant));
    kith_strlcpy(out->program, p.id, sizeof(out->program));
    kith_strlcpy(out->destination, p.destination, sizeof(out->destination));
    out->cookie_days = p.cookie_days;
    if (kith_eng_row_str(row, "first_name"))
        kith_strlcpy(out->first_name, kith_eng_row_str(row, "first_name"), sizeof(out->first_name));
    out->attributes = strcmp(kith_eng_row_str(row, "status"), "active") == 0 &&
                      kith_eng_row_int(row, "erased") == 0;
    json_t *cfg = NULL;
    if ((st = kith_eng_prog_config(tx, p.id, &cfg)) == KITH_OK)
        kith_eng_link_page(&p, cfg, row, out); /* the landing page and cookie domain (4b) */
    json_decref(cfg);
    json_decref(row);
    if (st != KITH_OK)
        return st;
    return KITH_OK;
}

static json_t *text_or_null(const char *s)
{
    return s[0] ? json_string(s) : json_null();
}

static int by_participant(const void *a, const void *b)
{
    const struct kith_click *x = *(const struct kith_click *const *)a;
    const struct kith_click *y = *(const struct kith_click *const *)b;
    return strcmp(x->participant, y->participant);
}

/* Per (program, hour, channel) counts for the click_hours rollup. */
struct hour_count {
    const char *program;
    int64_t hour;
    const char *channel;
    int64_t n;
};

static enum kith_status flush_hours(struct kith_tx *tx, struct hour_count *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_t *args = json_pack("[sIsI]", h[i].program, (json_int_t)h[i].hour, h[i].channel,
                                 (json_int_t)h[i].n);
        enum kith_status st = kith_store_exec(tx, KITH_Q_CLICKHOURS_ADD, args, NULL);
        json_decref(args);
        if (st != KITH_OK)
            return st;
    }
    return KITH_OK;
}

enum kith_status kith_engine_clicks_write(struct kith_tx *tx, const struct kith_click *clicks,
                                          size_t n)
{
    enum kith_status st = KITH_OK;
    struct hour_count hours[64];
    size_t nh = 0;
    const struct kith_click **sorted = calloc(n ? n : 1, sizeof(*sorted));
    if (sorted == NULL)
        abort();
    json_t *rows = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct kith_click *c = &clicks[i];
        json_t *row =
            json_pack("{s:s,s:s,s:s,s:s,s:I,s:o,s:o,s:o,s:o,s:o}", "id", c->id, "program",
                      c->program, "participant", c->participant, "code", c->code, "created_at",
                      (json_int_t)c->at_ms, "channel", text_or_null(c->channel), "referrer_host",
                      text_or_null(c->referrer_host), "ip_hash", text_or_null(c->ip_hash),
                      "ua_hash", text_or_null(c->ua_hash), "resource", text_or_null(c->resource));
        if (row == NULL)
            abort();
        json_array_append_new(rows, row);
    }
    json_t *batch = json_pack("[o]", rows);
    st = kith_store_exec(tx, KITH_Q_CLICKS_INSERT_MANY, batch, NULL);
    json_decref(batch);
    for (size_t i = 0; i < n && st == KITH_OK; i++) {
        const struct kith_click *c = &clicks[i];
        sorted[i] = c;
        /* A batch spans well under a second: a short list holds its hours and channels. */
        const char *ch = c->channel[0] ? c->channel : "none";
        int64_t hour = c->at_ms / KITH_MS_PER_HOUR;
        size_t k = 0;
        while (k < nh && !(hours[k].hour == hour && strcmp(hours[k].channel, ch) == 0 &&
                           strcmp(hours[k].program, c->program) == 0))
            k++;
        if (k == nh) {
            if (nh == KITH_ARRAY_LEN(hours)) {
                if (st == KITH_OK)
                    st = flush_hours(tx, hours, nh);
                nh = 0;
                k = 0;
            }
            hours[nh++] = (struct hour_count){c->program, hour, ch, 0};
        }
        hours[k].n++;
    }
    if (st == KITH_OK)
        st = flush_hours(tx, hours, nh);
    if (st == KITH_OK)
        st = kith_eng_asks_clicks(tx, clicks, n); /* open asks these clicks answer */
    /* Each participant's click count, and who just became a sharer. */
    qsort(sorted, n, sizeof(*sorted), by_participant);
    for (size_t i = 0; i < n && st == KITH_OK;) {
        size_t j = i;
        while (j < n && strcmp(sorted[j]->participant, sorted[i]->participant) == 0)
            j++;
        json_t *row = NULL, *args = json_pack("[sI]", sorted[i]->participant, (json_int_t)(j - i));
        st = kith_store_query_one(tx, KITH_Q_PARTICIPANTS_ADD_CLICKS, args, &row);
        json_decref(args);
        if (st == KITH_E_NOT_FOUND) {
            st = KITH_OK; /* the participant is gone (never: codes outlive erasure) */
        } else if (st == KITH_OK && kith_eng_row_int(row, "clicks") == (int64_t)(j - i)) {
            st = kith_eng_program_count(tx, sorted[i]->program, 0, 1);
        }
        json_decref(row);
        i = j;
    }
    if (st == KITH_OK) /* weekly clicks and sharers, first clicks (section 22) */
        st = kith_eng_health_clicks(tx, sorted, n);
    free(sorted);
    return st;
}
