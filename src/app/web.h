/*
 * web.h: the files of src/web (HTML templates, the stylesheet, the hub's script and kith.js),
 * embedded into the binary at build time by cmake/embed_web.cmake. Read-only after start.
 */
#ifndef KITH_APP_WEB_H
#define KITH_APP_WEB_H

#include <stddef.h>

struct kith_web_file {
    const char *name; /* "hub.js": the file's name in src/web */
    const char *data; /* its bytes, NUL-terminated */
    size_t len;
};
extern const struct kith_web_file kith_web_files[];
extern const size_t kith_web_file_count;

/* The embedded file called name, or NULL. */
const struct kith_web_file *kith_app_web_file(const char *name);

#endif
