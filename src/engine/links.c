/*
 * links.c: the engine's side of the redirect path. Resolving a code happens once per code (the
 * HTTP layer caches the answer); clicks arrive in batches and are written in one statement each
 * inside one transaction. Also the crawler and link-preview list, so a bot's visit is redirected
 * but never counted.
 */
#include <string.h>

#include "engine/internal.h"
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
    enum kith_status st = kith_store_query_one(tx, "codes.find", args, &row);
    json_decref(args);
    if (st != KITH_OK)
        return st;
    if ((st = prog_load(tx, row_str(row, "program"), &p, NULL)) != KITH_OK) {
        json_decref(row);
        return st;
    }
    kith_strlcpy(out->code, row_str(row, "matched"), sizeof(out->code));
    kith_strlcpy(out->participant, row_str(row, "participant"), sizeof(out->participant));
    kith_strlcpy(out->program, p.id, sizeof(out->program));
    kith_strlcpy(out->destination, p.destination, sizeof(out->destination));
    out->cookie_days = p.cookie_days;
    out->attributes = strcmp(row_str(row, "status"), "active") == 0 && row_int(row, "erased") == 0;
    json_decref(row);
    return KITH_OK;
}

static json_t *text_or_null(const char *s)
{
    return s[0] ? json_string(s) : json_null();
}

enum kith_status kith_engine_clicks_write(struct kith_tx *tx, const struct kith_click *clicks,
                                          size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct kith_click *c = &clicks[i];
        json_t *args = json_pack("[ssssIoooo]", c->id, c->program, c->participant, c->code,
                                 (json_int_t)c->at_ms, text_or_null(c->channel),
                                 text_or_null(c->referrer_host), text_or_null(c->ip_hash),
                                 text_or_null(c->ua_hash));
        enum kith_status st = args ? kith_store_exec(tx, "clicks.insert", args, NULL)
                                   : KITH_E_INTERNAL;
        json_decref(args);
        if (st != KITH_OK)
            return st;
    }
    return KITH_OK;
}

/* Substrings (lowercase) of User-Agent headers sent by crawlers and link-preview fetchers.
 * In-app browsers of social apps are people, so only their fetchers' names are listed. */
static const char *const bots[] = {
    "bot",           "crawler",      "spider",         "slurp",
    "facebookexternalhit", "facebot", "embedly",       "quora link preview",
    "outbrain",      "vkshare",      "w3c_validator",  "whatsapp/",
    "skypeuripreview", "preview",    "ia_archiver",    "headlesschrome",
    "lighthouse",    "iframely",     "google-inspectiontool", "feedfetcher",
    "httrack",       "scrapy",       "dataprovider",   "semrush",
    "ahrefs",        "mj12",         "slack-imgproxy", "mastodon",
    "yandex",        "baiduspider",  "duckduckgo",     "google-read-aloud",
};

bool kith_engine_is_bot(const char *ua)
{
    char lower[512];
    size_t n = 0;
    if (ua == NULL || *ua == '\0')
        return false;
    for (; ua[n] && n < sizeof(lower) - 1; n++)
        lower[n] = (ua[n] >= 'A' && ua[n] <= 'Z') ? (char)(ua[n] - 'A' + 'a') : ua[n];
    lower[n] = '\0';
    for (size_t i = 0; i < KITH_ARRAY_LEN(bots); i++) {
        if (strstr(lower, bots[i]) != NULL)
            return true;
    }
    return false;
}
