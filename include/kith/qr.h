/*
 * qr.h: a QR code of a short text (a share link) as an inline SVG element, for pages that must
 * not fetch anything from another host. The symbol is made by libqrencode (never by hand); this
 * module only draws it: one <path> of dark modules (runs of a row merged into one rectangle),
 * a white quiet zone of four modules, crisp edges, a title for screen readers. Pure: no I/O, no
 * clock, no global state; reentrant.
 */
#ifndef KITH_QR_H
#define KITH_QR_H

#include <stddef.h>

/* Longest text encoded (a share link is far shorter; QR version 40 holds 2953 bytes at L). */
#define KITH_QR_TEXT_MAX 1024

/*
 * Returns a new NUL-terminated string (free() it) holding `<svg ...>...</svg>` for text at
 * error-correction level M, with `<title>` = title (HTML-escaped here; NULL for none), or NULL
 * when text is empty, longer than KITH_QR_TEXT_MAX or cannot be encoded.
 */
char *kith_qr_svg(const char *text, const char *title);

#endif
