/*
 * templates.h: message templates (defaults and rendering) for notifications and share
 * messages. Pure: no I/O.
 */
#ifndef KITH_ENGINE_TEMPLATES_H
#define KITH_ENGINE_TEMPLATES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct kith_template {
    const char *name;
    const char *subject; /* NULL for channels without a subject */
    const char *body;
};

struct kith_template_vars {
    const char *first_name;
    const char *code;
    const char *share_url;
    const char *friend_first_name;
    const char *reward;
    const char *program_name;
    const char *track_name; /* level_reached: the track's and the level's names */
    const char *level_name;
    /* Resource messages only (CONTRACT 19): the resource's title and a link to it. */
    const char *resource_title;
    const char *resource_url;
    const char *summary; /* what a spotlight or digest says (section 18); NULL elsewhere */
};

/* The shipped template called name, or NULL when no such template exists. */
const struct kith_template *kith_template_default(const char *name);
bool kith_template_has_subject(const char *name);
/* True when every {{placeholder}} in text is a known variable; else the bad one is in bad. */
bool kith_template_check(const char *text, char *bad, size_t badsize);
/* Renders text with v in one pass; the caller frees the result. subject: strip line breaks. */
char *kith_template_render(const char *text, const struct kith_template_vars *v, bool subject);
/* "a 25.00 USD credit", or the description of a non-monetary reward. */
void kith_template_reward_text(json_t *reward, char *out, size_t outsize);

#endif
