/*
 * sweeper.c: once a second, one store job runs the engine's sweep (held rewards that came due,
 * expiries, click hashes past their use, old idempotency records). At most one sweep is queued
 * at a time, and none starts once the server is stopping. It is not for what is due: the engine
 * decides (kith_engine_sweep).
 */
#include "app/app.h"
#include "kith/clock.h"
#include "kith/log.h"

#define SWEEP_EVERY_MS 1000

static enum kith_status sweep_job(struct kith_tx *tx, void *arg)
{
    struct kith_app *a = arg;
    bool more = false;
    return kith_engine_sweep(tx, &a->eng, kith_clock_now_ms(), &more);
}

static void sweep_done(void *arg, enum kith_status st)
{
    struct kith_app *a = arg;
    a->sweeper.running = false;
    if (st != KITH_OK) {
        a->store_errors++;
        kith_log_warn("sweeper", "msg=\"sweep failed\" status=%s", kith_status_code(st));
    }
}

static void on_timer(uv_timer_t *t)
{
    struct kith_app *a = t->data;
    if (a->sweeper.running || a->stopping)
        return;
    a->sweeper.running = true;
    kith_app_submit(a, sweep_job, sweep_done, a);
}

void kith_app_sweeper_init(struct kith_app *a)
{
    uv_timer_init(a->loop, &a->sweeper.timer);
    a->sweeper.timer.data = a;
    uv_timer_start(&a->sweeper.timer, on_timer, SWEEP_EVERY_MS, SWEEP_EVERY_MS);
}

void kith_app_sweeper_stop(struct kith_app *a)
{
    uv_timer_stop(&a->sweeper.timer);
    uv_close((uv_handle_t *)&a->sweeper.timer, kith_app_on_closed);
}
