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

/* A click's columns, in the order of click_cols: bound from the struct, no JSON (store.h). */
static const char *const click_cols[] = {
    "id",      "program", "participant", "code", "created_at", "channel", "referrer_host",
    "ip_hash", "ua_hash", "resource",    NULL};

static const char *text_or_null(const char *s)
{
    return s[0] ? s : NULL;
}

static void click_row(const void *rows, size_t i, struct kith_store_value *v)
{
    const struct kith_click *c = &((const struct kith_click *)rows)[i];
    v[0].text = c->id;
    v[1].text = c->program;
    v[2].text = c->participant;
    v[3].text = c->code;
    v[4].is_num = true;
    v[4].num = c->at_ms;
    v[5].text = text_or_null(c->channel);
    v[6].text = text_or_null(c->referrer_host);
    v[7].text = text_or_null(c->ip_hash);
    v[8].text = text_or_null(c->ua_hash);
    v[9].text = text_or_null(c->resource);
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
    st =
        kith_store_exec_rows(tx, KITH_Q_CLICKS_INSERT_MANY, click_cols, n, click_row, clicks, NULL);
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
    /* Each participant's click count, who just became a sharer, and whose open asks these
     * clicks may answer (the same statement says whether the participant has any: most never
     * do, and the asks are then not looked at). */
    qsort(sorted, n, sizeof(*sorted), by_participant);
    const struct kith_click **asking = calloc(n ? n : 1, sizeof(*asking));
    if (asking == NULL)
        abort();
    size_t nasking = 0;
    for (size_t i = 0; i < n && st == KITH_OK;) {
        size_t j = i;
        int64_t first = sorted[i]->at_ms;
        for (; j < n && strcmp(sorted[j]->participant, sorted[i]->participant) == 0; j++)
            first = sorted[j]->at_ms < first ? sorted[j]->at_ms : first;
        json_t *row = NULL, *args = json_pack("[sII]", sorted[i]->participant, (json_int_t)(j - i),
                                              (json_int_t)first);
        st = kith_store_query_one(tx, KITH_Q_PARTICIPANTS_ADD_CLICKS, args, &row);
        json_decref(args);
        if (st == KITH_E_NOT_FOUND) {
            st = KITH_OK; /* the participant is gone (never: codes outlive erasure) */
        } else if (st == KITH_OK) {
            if (kith_eng_row_int(row, "open_asks") != 0)
                for (size_t k = i; k < j; k++)
                    asking[nasking++] = sorted[k];
            if (kith_eng_row_int(row, "clicks") == (int64_t)(j - i))
                st = kith_eng_program_count(tx, sorted[i]->program, 0, 1);
        }
        json_decref(row);
        i = j;
    }
    if (st == KITH_OK && nasking > 0)
        st = kith_eng_asks_clicks(tx, asking, nasking); /* open asks these clicks answer */
    free(asking);
    if (st == KITH_OK) /* weekly clicks and sharers, first clicks (section 22) */
        st = kith_eng_health_clicks(tx, sorted, n);
    free(sorted);
    return st;
}
