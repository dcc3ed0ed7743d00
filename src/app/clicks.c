/*
 * clicks.c: the click batcher. The redirect path answers without waiting for the database: a
 * counted click goes into a buffer here, and the buffer is written as one store job every
 * 200 ms, when it is full, and before any other job (so a signup sent after a click's redirect
 * finds the click). Clicks handed to the store and not written yet are bounded: past the bound
 * the database is not keeping up, and clicks are shed (redirected with `ref`, which attributes
 * by itself, but without a cookie or a record), counted in kith_clicks_shed_total, instead of
 * growing memory without bound. It is not for deciding what counts: src/links does.
 */
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "kith/log.h"

#define CLICK_FLUSH_MS 200
#define CLICK_BATCH_MAX 4096
#define CLICK_BACKLOG_MAX 250000

struct batch {
    struct kith_app *a;
    struct kith_click *clicks;
    size_t n;
};

/*
 * A batch's buffer (4096 clicks, 2.5 MB) is reused once its batch is written: allocating and
 * zeroing a fresh one for every batch cost more than the redirects themselves (at 200,000
 * redirects/s, a new buffer every 20 ms, each page faulted in anew).
 */
static struct kith_click *buffer_get(struct kith_app_clicks *k)
{
    if (k->spares > 0)
        return k->spare[--k->spares];
    struct kith_click *b = malloc(CLICK_BATCH_MAX * sizeof(*b));
    if (b == NULL)
        abort();
    return b;
}

static void buffer_put(struct kith_app_clicks *k, struct kith_click *b)
{
    if (k->spares < KITH_ARRAY_LEN(k->spare))
        k->spare[k->spares++] = b;
    else
        free(b);
}

static enum kith_status batch_job(struct kith_tx *tx, void *arg)
{
    struct batch *b = arg;
    return kith_engine_clicks_write(tx, b->clicks, b->n);
}

static void batch_done(void *arg, enum kith_status st)
{
    struct batch *b = arg;
    struct kith_app_clicks *k = &b->a->clicks;
    k->inflight -= b->n;
    if (st != KITH_OK) {
        k->lost += b->n;
        b->a->store_errors++;
        kith_log_error("clicks", "msg=\"click batch not stored\" clicks=%zu", b->n);
    } else {
        k->recorded += b->n;
    }
    buffer_put(k, b->clicks);
    free(b);
}

void kith_app_clicks_flush(struct kith_app *a)
{
    struct kith_app_clicks *k = &a->clicks;
    if (k->count == 0 || a->store == NULL)
        return;
    struct batch *b = calloc(1, sizeof(*b));
    if (b == NULL)
        abort();
    b->a = a;
    b->clicks = k->buf;
    b->n = k->count;
    k->inflight += b->n;
    k->buf = NULL;
    k->count = 0;
    kith_store_submit_barrier(a->store, batch_job, batch_done, b);
}

bool kith_app_clicks_full(const struct kith_app *a)
{
    return a->clicks.inflight + a->clicks.count >= CLICK_BACKLOG_MAX;
}

void kith_app_clicks_shed(struct kith_app *a)
{
    struct kith_app_clicks *k = &a->clicks;
    if (k->shed++ % 10000 == 0)
        kith_log_warn("clicks", "msg=\"the database is behind; clicks shed\" shed=%llu",
                      (unsigned long long)k->shed);
}

struct kith_click *kith_app_clicks_add(struct kith_app *a)
{
    struct kith_app_clicks *k = &a->clicks;
    if (kith_app_clicks_full(a))
        return NULL;
    if (k->count >= CLICK_BATCH_MAX)
        kith_app_clicks_flush(a);
    if (k->buf == NULL)
        k->buf = buffer_get(k);
    struct kith_click *c = &k->buf[k->count++];
    memset(c, 0, sizeof(*c));
    return c;
}

static void on_timer(uv_timer_t *t)
{
    kith_app_clicks_flush(t->data);
    fflush(stderr); /* the access log is written in blocks, not a write(2) per request */
}

static void prom_section(struct kith_app *a, FILE *out)
{
    struct kith_app_clicks *k = &a->clicks;
    fprintf(out,
            "# HELP kith_clicks_recorded_total Counted clicks written to the database.\n"
            "# TYPE kith_clicks_recorded_total counter\nkith_clicks_recorded_total %llu\n"
            "# HELP kith_clicks_lost_total Counted clicks whose batch failed to commit.\n"
            "# TYPE kith_clicks_lost_total counter\nkith_clicks_lost_total %llu\n"
            "# HELP kith_clicks_buffered Clicks waiting for their batch to be written.\n"
            "# TYPE kith_clicks_buffered gauge\nkith_clicks_buffered %zu\n"
            "# HELP kith_clicks_shed_total Clicks not recorded because the database was behind.\n"
            "# TYPE kith_clicks_shed_total counter\nkith_clicks_shed_total %llu\n",
            (unsigned long long)k->recorded, (unsigned long long)k->lost, k->count + k->inflight,
            (unsigned long long)k->shed);
}

void kith_app_clicks_init(struct kith_app *a)
{
    uv_timer_init(a->loop, &a->clicks.timer);
    a->clicks.timer.data = a;
    uv_timer_start(&a->clicks.timer, on_timer, CLICK_FLUSH_MS, CLICK_FLUSH_MS);
    kith_app_prom_register(a, prom_section);
}

void kith_app_clicks_stop(struct kith_app *a)
{
    kith_app_clicks_flush(a);
    uv_timer_stop(&a->clicks.timer);
    uv_close((uv_handle_t *)&a->clicks.timer, kith_app_on_closed);
}

void kith_app_clicks_dispose(struct kith_app *a)
{
    free(a->clicks.buf);
    a->clicks.buf = NULL;
    while (a->clicks.spares > 0)
        free(a->clicks.spare[--a->clicks.spares]);
    a->clicks.count = 0;
}
