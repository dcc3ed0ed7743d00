/*
 * qr.c: a QR symbol from libqrencode drawn as SVG (include/kith/qr.h). The drawing is one path
 * in module units with a viewBox, so it scales to any size without blur and costs a few
 * kilobytes inline. It is not a QR encoder: libqrencode is.
 */
#include <qrencode.h>
#include <stdlib.h>
#include <string.h>

#include "kith/buf.h"
#include "kith/qr.h"

#define QUIET 4 /* modules of white around the symbol (ISO/IEC 18004) */

char *kith_qr_svg(const char *text, const char *title)
{
    if (text == NULL || text[0] == '\0' || strlen(text) > KITH_QR_TEXT_MAX)
        return NULL;
    QRcode *q = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
    if (q == NULL)
        return NULL;
    int w = q->width, size = w + 2 * QUIET;
    struct kith_buf b = {0};
    kith_buf_printf(&b,
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                    "shape-rendering=\"crispEdges\" role=\"img\"",
                    size, size);
    if (title) {
        kith_buf_str(&b, " aria-label=\"");
        kith_buf_html(&b, title);
        kith_buf_str(&b, "\"><title>");
        kith_buf_html(&b, title);
        kith_buf_str(&b, "</title>");
    } else {
        kith_buf_str(&b, ">");
    }
    kith_buf_printf(&b, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
                    size, size);
    for (int y = 0; y < w; y++) {
        for (int x = 0; x < w;) {
            if (!(q->data[y * w + x] & 1)) {
                x++;
                continue;
            }
            int run = 1;
            while (x + run < w && (q->data[y * w + x + run] & 1))
                run++;
            kith_buf_printf(&b, "M%d %dh%dv1h-%dz", x + QUIET, y + QUIET, run, run);
            x += run;
        }
    }
    kith_buf_str(&b, "\"/></svg>");
    QRcode_free(q);
    return kith_buf_take(&b);
}
