/*
 * config.c: the generic machinery of the config table (include/kith/config.h): it resolves,
 * validates and prints any table of settings; kith's own rows are in settings.c. A value is checked
 * where it is read, so the message can name its place (file and line, variable, flag), and nothing
 * is created before every value passed. It is not for what a setting does: the table only fills
 * struct kith_app_config, and the modules reading that struct act on it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config_internal.h"
#include "kith/app.h"
#include "kith/cidr.h"
#include "kith/config.h"
#include "kith/log.h"
#include "kith/text.h"

#define CONFIG_FILE_MAX (1024 * 1024) /* a settings file, not a data file */
#define SHOWN_MAX 48                  /* bytes of a bad value echoed in an error */

/* ---- values ---------------------------------------------------------------------------- */

enum source { SRC_UNSET, SRC_DEFAULT, SRC_FILE, SRC_ENV, SRC_FLAG };

struct value {
    char *text; /* owned; NULL when unset */
    char *host; /* HOSTPORT: owned host without brackets */
    enum source src;
    char where[128]; /* "kith.conf:3", "KITH_DB", "--db" */
};

struct kith_config {
    const struct kith_config_setting *table;
    size_t n;
    struct value v[];
};

static char *xstrndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p == NULL)
        abort();
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* A bad value as it may be shown: cut, with control bytes as '?'. */
static void show_value(const char *v, char out[SHOWN_MAX + 4])
{
    size_t n = 0;
    for (; v[n] && n < SHOWN_MAX; n++)
        out[n] = ((unsigned char)v[n] < 0x20 || v[n] == 0x7f) ? '?' : v[n];
    if (v[n]) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

static bool parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = {"on", "true", "yes", "1"};
    static const char *const no[] = {"off", "false", "no", "0"};
    for (size_t i = 0; i < KITH_ARRAY_LEN(yes); i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

static int word_index(const char *const *words, const char *v)
{
    for (int i = 0; words && words[i]; i++) {
        if (strcmp(words[i], v) == 0)
            return i;
    }
    return -1;
}

void kith_config__join_words(const char *const *words, const char *sep, char *out, size_t outsize)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; words && words[i]; i++)
        o += (size_t)snprintf(out + o, o < outsize ? outsize - o : 0, "%s%s", i ? sep : "",
                              words[i]);
}

/* Splits HOST:PORT ([v6]:PORT); host gets an owned copy without brackets. */
static bool split_hostport(const char *v, char **host, int *port)
{
    const char *colon = strrchr(v, ':');
    if (colon == NULL || colon == v || colon[1] == '\0' || strlen(colon + 1) > 5)
        return false;
    const char *h = v;
    size_t hl = (size_t)(colon - v);
    if (h[0] == '[') {
        if (hl < 3 || h[hl - 1] != ']')
            return false;
        h++;
        hl -= 2;
    } else if (memchr(h, ':', hl) != NULL) {
        return false; /* an IPv6 address needs its brackets */
    }
    if (hl > 253 || memchr(h, '[', hl) || memchr(h, ']', hl))
        return false;
    long p = 0;
    for (const char *d = colon + 1; *d; d++) {
        if (*d < '0' || *d > '9')
            return false;
        p = p * 10 + (*d - '0');
    }
    if (p > 65535)
        return false;
    if (host)
        *host = xstrndup(h, hl);
    if (port)
        *port = (int)p;
    return true;
}

/* Checks v against s; on failure writes why (never quoting a secret's value). */
static bool check_value(const struct kith_config_setting *s, const char *v, char *why,
                        size_t whysize)
{
    size_t len = strlen(v);
    char words[96];
    switch (s->type) {
    case KITH_CONFIG_STRING:
        if (len > (size_t)s->max) {
            snprintf(why, whysize, "is longer than %lld bytes", (long long)s->max);
            return false;
        }
        if (!kith_valid_utf8(v, len)) {
            snprintf(why, whysize, "is not valid UTF-8");
            return false;
        }
        for (const char *c = v; *c; c++) {
            if ((unsigned char)*c < 0x20 || *c == 0x7f) {
                snprintf(why, whysize, "must not contain control characters");
                return false;
            }
        }
        return true;
    case KITH_CONFIG_TOKEN:
        for (const char *c = v; *c; c++) {
            if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f) {
                snprintf(why, whysize, "must be visible ASCII characters without spaces");
                return false;
            }
        }
        if (len > (size_t)s->max) {
            snprintf(why, whysize, "is longer than %lld bytes", (long long)s->max);
            return false;
        }
        return true;
    case KITH_CONFIG_INT: {
        char *end = NULL;
        errno = 0;
        long long n = strtoll(v, &end, 10);
        if (!(*v == '-' || (*v >= '0' && *v <= '9')) || *end != '\0' || errno != 0 || n < s->min ||
            n > s->max) {
            snprintf(why, whysize, "must be an integer from %lld to %lld", (long long)s->min,
                     (long long)s->max);
            return false;
        }
        return true;
    }
    case KITH_CONFIG_BOOL: {
        bool b;
        if (!parse_bool(v, &b)) {
            snprintf(why, whysize, "must be on or off (or true/false, yes/no, 1/0)");
            return false;
        }
        return true;
    }
    case KITH_CONFIG_ENUM:
        if (word_index(s->words, v) < 0) {
            kith_config__join_words(s->words, ", ", words, sizeof(words));
            snprintf(why, whysize, "must be one of: %s", words);
            return false;
        }
        return true;
    case KITH_CONFIG_CIDRS: {
        size_t count;
        struct kith_err e = {{0}, {0}};
        if (len > (size_t)s->max) {
            snprintf(why, whysize, "is longer than %lld bytes", (long long)s->max);
            return false;
        }
        if (kith_cidr_list_parse(v, NULL, KITH_CIDR_LIST_MAX, &count, &e) != KITH_OK) {
            kith_strlcpy(why, e.message, whysize);
            return false;
        }
        return true;
    }
    case KITH_CONFIG_URL:
        if (len > (size_t)s->max || !kith_valid_url(v, s->words)) {
            kith_config__join_words(s->words, "://, ", words, sizeof(words));
            snprintf(why, whysize, "must be a URL starting %s:// with a host, at most %lld bytes",
                     words, (long long)s->max);
            return false;
        }
        return true;
    case KITH_CONFIG_HOSTPORT:
        for (const char *c = v; *c; c++) {
            if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f) {
                snprintf(why, whysize, "must be HOST:PORT without spaces");
                return false;
            }
        }
        if (!split_hostport(v, NULL, NULL)) {
            snprintf(why, whysize,
                     "must be HOST:PORT with a port from 0 to 65535 ([::1]:8080 for IPv6)");
            return false;
        }
        return true;
    }
    snprintf(why, whysize, "has an unknown type");
    return false;
}

/* Validates v for setting i and, when it passes, makes it the setting's value from where. */
static enum kith_status take_value(struct kith_config *c, size_t i, const char *v, size_t vn,
                                   enum source src, const char *where, struct kith_err *err)
{
    const struct kith_config_setting *s = &c->table[i];
    char *copy = xstrndup(v, vn);
    char why[400];
    if (memchr(v, '\0', vn) != NULL || !check_value(s, copy, why, sizeof(why))) {
        char shown[SHOWN_MAX + 4];
        if (memchr(v, '\0', vn) != NULL)
            snprintf(why, sizeof(why), "must not contain NUL bytes");
        show_value(copy, shown);
        if (s->secret || s->type == KITH_CONFIG_CIDRS) /* a CIDR message quotes the token */
            kith_err_set(err, KITH_E_INVALID_PARAM, s->name, "%s: %s %s", where, s->name, why);
        else
            kith_err_set(err, KITH_E_INVALID_PARAM, s->name, "%s: %s %s (got \"%s\")", where,
                         s->name, why, shown);
        free(copy);
        return KITH_E_INVALID_PARAM;
    }
    free(c->v[i].text);
    c->v[i].text = copy;
    c->v[i].src = src;
    kith_strlcpy(c->v[i].where, where, sizeof(c->v[i].where));
    return KITH_OK;
}

/* ---- the config file -------------------------------------------------------------------- */

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t';
}

/*
 * One `key = value` line (without its newline) into key and value. A value is bare (running to
 * the end of the line or to a # after white space, trailing white space dropped) or
 * double-quoted (\" and \\ are its only escapes; only a comment may follow). Returns NULL or
 * why the line is malformed. *value is owned by the caller on success.
 */
static const char *parse_line(const char *line, size_t len, const char **key, size_t *key_len,
                              char **value, size_t *value_len)
{
    const char *p = line, *end = line + len;
    while (p < end && is_space(*p))
        p++;
    *key = p;
    while (p < end && ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
        p++;
    *key_len = (size_t)(p - *key);
    if (*key_len == 0)
        return "expected `name = value` (names are lowercase, e.g. listen)";
    while (p < end && is_space(*p))
        p++;
    if (p == end || *p != '=')
        return "expected `=` after the setting name";
    p++;
    while (p < end && is_space(*p))
        p++;
    if (p < end && *p == '"') {
        char *out = malloc(len + 1);
        size_t o = 0;
        if (out == NULL)
            abort();
        for (p++;; p++) {
            if (p == end) {
                free(out);
                return "the quoted value has no closing \"";
            }
            if (*p == '"')
                break;
            if (*p == '\\') {
                if (p + 1 == end || (p[1] != '"' && p[1] != '\\')) {
                    free(out);
                    return "only \\\" and \\\\ may be escaped in a quoted value";
                }
                p++;
            }
            out[o++] = *p;
        }
        for (p++; p < end && is_space(*p); p++)
            ;
        if (p < end && *p != '#') {
            free(out);
            return "only a # comment may follow a quoted value";
        }
        out[o] = '\0';
        *value = out;
        *value_len = o;
        return NULL;
    }
    const char *v = p;
    while (p < end && !(*p == '#' && is_space(p[-1])))
        p++;
    while (p > v && is_space(p[-1]))
        p--;
    *value = xstrndup(v, (size_t)(p - v));
    *value_len = (size_t)(p - v);
    return NULL;
}

static enum kith_status read_file(const char *path, char **text, size_t *len, struct kith_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return kith_err_set(err, KITH_E_INVALID_PARAM, "config", "cannot read %s: %s", path,
                            strerror(errno));
    char *buf = malloc(CONFIG_FILE_MAX + 1);
    if (buf == NULL)
        abort();
    size_t n = fread(buf, 1, CONFIG_FILE_MAX + 1, f);
    bool failed = ferror(f) != 0;
    fclose(f);
    if (failed || n > CONFIG_FILE_MAX) {
        free(buf);
        return kith_err_set(err, KITH_E_INVALID_PARAM, "config",
                            failed ? "cannot read %s" : "%s is larger than 1 MiB", path);
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return KITH_OK;
}

static enum kith_status load_file(struct kith_config *c, const char *path, struct kith_err *err)
{
    char *text = NULL;
    size_t len = 0;
    enum kith_status st = read_file(path, &text, &len, err);
    if (st != KITH_OK)
        return st;
    bool *seen = calloc(c->n ? c->n : 1, sizeof(bool));
    size_t *seen_line = calloc(c->n ? c->n : 1, sizeof(size_t));
    if (seen == NULL || seen_line == NULL)
        abort();
    size_t lineno = 0;
    for (const char *line = text; st == KITH_OK && line < text + len;) {
        const char *nl = memchr(line, '\n', (size_t)(text + len - line));
        size_t ll = nl ? (size_t)(nl - line) : (size_t)(text + len - line);
        const char *next = nl ? nl + 1 : text + len;
        lineno++;
        if (ll > 0 && line[ll - 1] == '\r')
            ll--;
        char where[128];
        snprintf(where, sizeof(where), "%s:%zu", path, lineno);
        size_t i = 0;
        while (i < ll && is_space(line[i]))
            i++;
        if (i == ll || line[i] == '#') {
            line = next;
            continue;
        }
        const char *key, *why;
        size_t kn, vn;
        char *value = NULL;
        if ((why = parse_line(line, ll, &key, &kn, &value, &vn)) != NULL) {
            st = kith_err_set(err, KITH_E_INVALID_PARAM, "config", "%s: %s", where, why);
            break;
        }
        size_t k = 0;
        while (k < c->n &&
               !(strlen(c->table[k].name) == kn && memcmp(c->table[k].name, key, kn) == 0))
            k++;
        if (k == c->n) {
            st = kith_err_set(err, KITH_E_INVALID_PARAM, "config",
                              "%s: unknown setting '%.*s' (kith --help lists them)", where,
                              (int)(kn > 64 ? 64 : kn), key);
        } else if (c->table[k].names_file) {
            st = kith_err_set(err, KITH_E_INVALID_PARAM, c->table[k].name,
                              "%s: %s cannot be set inside a config file", where, c->table[k].name);
        } else if (seen[k]) {
            st = kith_err_set(err, KITH_E_INVALID_PARAM, c->table[k].name,
                              "%s: %s is already set on line %zu", where, c->table[k].name,
                              seen_line[k]);
        } else {
            seen[k] = true;
            seen_line[k] = lineno;
            if (vn > 0)
                st = take_value(c, k, value, vn, SRC_FILE, where, err);
        }
        free(value);
        line = next;
    }
    free(seen);
    free(seen_line);
    free(text);
    return st;
}

/* ---- resolution ------------------------------------------------------------------------- */

bool kith_config__takes_flag(const struct kith_config_setting *s, unsigned command)
{
    return s->flag != NULL && (command == 0 || (s->commands & command) != 0);
}

struct flag_value {
    size_t setting;
    const char *value;
    size_t value_len;
    const char *flag;
};

/* Matches argv against the flags command takes; values are checked later, in order. */
static enum kith_status scan_flags(const struct kith_config_setting *t, size_t n, unsigned command,
                                   int argc, char **argv, struct flag_value *out, size_t *count,
                                   struct kith_err *err)
{
    *count = 0;
    for (int a = 0; a < argc; a++) {
        const char *arg = argv[a];
        const char *eq = strchr(arg, '=');
        size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
        size_t i = 0;
        while (i < n && !(kith_config__takes_flag(&t[i], command) &&
                          strlen(t[i].flag) == name_len && strncmp(t[i].flag, arg, name_len) == 0))
            i++;
        if (i == n) {
            char shown[SHOWN_MAX + 4];
            show_value(arg, shown);
            return kith_err_set(err, KITH_E_INVALID_PARAM, NULL,
                                arg[0] == '-' ? "unknown option '%s' (see kith --help)"
                                              : "unexpected argument '%s' (see kith --help)",
                                shown);
        }
        struct flag_value *f = &out[(*count)++];
        f->setting = i;
        f->flag = t[i].flag;
        if (eq) {
            f->value = eq + 1;
        } else if (t[i].type == KITH_CONFIG_BOOL) {
            f->value = "on"; /* a bare switch; --x=off turns it off */
        } else if (a + 1 < argc) {
            f->value = argv[++a];
        } else {
            return kith_err_set(err, KITH_E_INVALID_PARAM, t[i].name, "%s needs a value",
                                t[i].flag);
        }
        f->value_len = strlen(f->value);
    }
    return KITH_OK;
}

/* Writes the checked text of every setting into target. */
static void fill_target(const struct kith_config *c, void *target)
{
    char *base = target;
    for (size_t i = 0; i < c->n; i++) {
        const struct kith_config_setting *s = &c->table[i];
        const struct value *v = &c->v[i];
        void *at = base + s->offset;
        switch (s->type) {
        case KITH_CONFIG_STRING:
        case KITH_CONFIG_TOKEN:
        case KITH_CONFIG_CIDRS:
        case KITH_CONFIG_URL: {
            const char *p = v->text;
            memcpy(at, &p, sizeof(p));
            break;
        }
        case KITH_CONFIG_INT: {
            int64_t x = v->text ? strtoll(v->text, NULL, 10) : 0;
            memcpy(at, &x, sizeof(x));
            break;
        }
        case KITH_CONFIG_BOOL: {
            bool b = false;
            if (v->text)
                parse_bool(v->text, &b);
            memcpy(at, &b, sizeof(b));
            break;
        }
        case KITH_CONFIG_ENUM: {
            int x = v->text ? word_index(s->words, v->text) : 0;
            memcpy(at, &x, sizeof(x));
            break;
        }
        case KITH_CONFIG_HOSTPORT: {
            const char *h = v->host;
            int port = 0;
            if (v->text)
                split_hostport(v->text, NULL, &port);
            memcpy(at, &h, sizeof(h));
            memcpy(base + s->port_offset, &port, sizeof(port));
            break;
        }
        }
    }
}

enum kith_status kith_config_load(const struct kith_config_setting *table, size_t n,
                                  unsigned command, int argc, char **argv, void *target,
                                  struct kith_config **out, struct kith_err *err)
{
    enum kith_status st = KITH_OK;
    struct flag_value *flags = NULL;
    size_t nflags = 0;
    struct kith_config *c = calloc(1, sizeof(*c) + n * sizeof(c->v[0]));
    if (c == NULL)
        abort();
    c->table = table;
    c->n = n;
    if (out)
        *out = NULL;
    for (size_t i = 0; i < n && st == KITH_OK; i++) {
        if (table[i].def)
            st = take_value(c, i, table[i].def, strlen(table[i].def), SRC_DEFAULT, "default", err);
    }
    if (st != KITH_OK)
        goto out;
    flags = calloc(argc > 0 ? (size_t)argc : 1, sizeof(*flags));
    if (flags == NULL)
        abort();
    if ((st = scan_flags(table, n, command, argc, argv, flags, &nflags, err)) != KITH_OK)
        goto out;

    /* The file first: which one is a flag or the environment. */
    const char *path = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!table[i].names_file)
            continue;
        const char *e = table[i].env ? getenv(table[i].env) : NULL;
        if (e && *e && (st = take_value(c, i, e, strlen(e), SRC_ENV, table[i].env, err)) != KITH_OK)
            goto out;
        for (size_t f = 0; f < nflags; f++) {
            if (flags[f].setting == i && flags[f].value_len > 0 &&
                (st = take_value(c, i, flags[f].value, flags[f].value_len, SRC_FLAG, flags[f].flag,
                                 err)) != KITH_OK)
                goto out;
        }
        path = c->v[i].text;
    }
    if (path && (st = load_file(c, path, err)) != KITH_OK)
        goto out;
    for (size_t i = 0; i < n; i++) {
        const char *e = table[i].env ? getenv(table[i].env) : NULL;
        if (!table[i].names_file && e && *e &&
            (st = take_value(c, i, e, strlen(e), SRC_ENV, table[i].env, err)) != KITH_OK)
            goto out;
    }
    for (size_t f = 0; f < nflags; f++) {
        if (!table[flags[f].setting].names_file && flags[f].value_len > 0 &&
            (st = take_value(c, flags[f].setting, flags[f].value, flags[f].value_len, SRC_FLAG,
                             flags[f].flag, err)) != KITH_OK)
            goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (table[i].type == KITH_CONFIG_HOSTPORT && c->v[i].text)
            split_hostport(c->v[i].text, &c->v[i].host, NULL);
    }
    if (out) {
        if (target)
            fill_target(c, target);
        *out = c;
        c = NULL;
    }
out:
    free(flags);
    kith_config_destroy(c);
    return st;
}

void kith_config_destroy(struct kith_config *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++) {
        if (c->table[i].secret && c->v[i].text) {
            /* Through a volatile pointer, so the wipe is not optimised away before free. */
            volatile char *p = c->v[i].text;
            while (*p)
                *p++ = '\0';
        }
        free(c->v[i].text);
        free(c->v[i].host);
    }
    free(c);
}

/* ---- printing --------------------------------------------------------------------------- */

/* A copy of v with the password of a scheme://user:password@host URL as ***. */
static void redact_url_password(const char *v, char *out, size_t outsize)
{
    const char *scheme_end = strstr(v, "://");
    kith_strlcpy(out, v, outsize);
    if (scheme_end == NULL)
        return;
    const char *auth = scheme_end + 3;
    size_t auth_len = strcspn(auth, "/?#");
    const char *at = NULL;
    for (const char *p = auth; p < auth + auth_len; p++) {
        if (*p == '@')
            at = p;
    }
    const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    if (colon == NULL)
        return;
    snprintf(out, outsize, "%.*s***%s", (int)(colon + 1 - v), v, at);
}

static bool needs_quotes(const char *v)
{
    size_t n = strlen(v);
    if (n == 0)
        return false;
    if (is_space(v[0]) || is_space(v[n - 1]) || v[0] == '"' || v[0] == '#')
        return true;
    for (size_t i = 1; i < n; i++) {
        if (v[i] == '#' && is_space(v[i - 1]))
            return true;
    }
    return false;
}

void kith_config_write_effective(const struct kith_config *c, FILE *out)
{
    for (size_t i = 0; i < c->n; i++) {
        const struct kith_config_setting *s = &c->table[i];
        const struct value *v = &c->v[i];
        char shown[4200], line[4400], source[200];
        if (v->text == NULL)
            shown[0] = '\0';
        else if (s->secret)
            kith_strlcpy(shown, "(redacted)", sizeof(shown));
        else
            redact_url_password(v->text, shown, sizeof(shown));
        if (needs_quotes(shown)) {
            char q[sizeof(shown)];
            size_t o = 0;
            q[o++] = '"';
            for (const char *p = shown; *p && o + 3 < sizeof(q); p++) {
                if (*p == '"' || *p == '\\')
                    q[o++] = '\\';
                q[o++] = *p;
            }
            q[o++] = '"';
            q[o] = '\0';
            kith_strlcpy(shown, q, sizeof(shown));
        }
        switch (v->src) {
        case SRC_UNSET:
            snprintf(source, sizeof(source), "unset%s%s", s->def_doc ? ": " : "",
                     s->def_doc ? s->def_doc : "");
            break;
        case SRC_DEFAULT:
            snprintf(source, sizeof(source), "default");
            break;
        case SRC_FILE:
            snprintf(source, sizeof(source), "file %s", v->where);
            break;
        case SRC_ENV:
            snprintf(source, sizeof(source), "environment %s", v->where);
            break;
        case SRC_FLAG:
            snprintf(source, sizeof(source), "flag %s", v->where);
            break;
        }
        snprintf(line, sizeof(line), "%s =%s%s", s->name, shown[0] ? " " : "", shown);
        fprintf(out, "%-44s # %s\n", line, source);
    }
}
