/*
 * jobs.c: the job queue shared by the SQLite and PostgreSQL back-ends (see jobs.h). Nothing here
 * touches a database; it moves work between the loop thread and the store's worker threads, and
 * owns the order of the store's teardown: every job answered once, and no callback left to run
 * against a destroyed mutex or a freed store.
 */
#include <stdint.h>
#include <stdlib.h>

#include "store/jobs.h"

void kith_jobs_init(struct kith_jobs *q)
{
    uv_mutex_init(&q->mu);
    uv_cond_init(&q->cv);
}

static void on_async(uv_async_t *a)
{
    kith_jobs_flush(a->data);
}

void kith_jobs_start(struct kith_jobs *q, uv_loop_t *loop)
{
    uv_async_init(loop, &q->async, on_async);
    q->async.data = q;
    q->started = true;
}

/* With q->mu held: appends first..last to the list done callbacks are run from. */
static void done_append(struct kith_jobs *q, struct kith_job *first, struct kith_job *last)
{
    if (q->done_tail)
        q->done_tail->next = first;
    else
        q->done_head = first;
    q->done_tail = last;
    for (struct kith_job *j = first; j; j = j->next)
        q->done_count++;
}

void kith_jobs_push(struct kith_jobs *q, kith_store_job_fn fn, kith_store_done_fn done, void *arg,
                    bool barrier)
{
    struct kith_job *j = calloc(1, sizeof(*j));
    if (j == NULL)
        abort();
    j->fn = fn;
    j->done = done;
    j->arg = arg;
    j->barrier = barrier;
    uv_mutex_lock(&q->mu);
    q->pending++;
    if (q->closed) {
        /* No worker will take it: answered by the close (or its handle's close callback). */
        j->st = KITH_E_UNAVAILABLE;
        done_append(q, j, j);
        uv_mutex_unlock(&q->mu);
        return;
    }
    if (q->tail)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
    uv_cond_signal(&q->cv);
    uv_mutex_unlock(&q->mu);
}

static struct kith_job *take(struct kith_jobs *q, size_t max, bool pool, struct kith_job **last)
{
    uv_mutex_lock(&q->mu);
    /* A barrier holds back every worker, stopping or not: two workers taking the same waiting
     * barrier, or a job after it starting early, would break what the barrier promised. */
    q->idle++;
    while (q->head == NULL ? !q->stopping : q->barrier_busy)
        uv_cond_wait(&q->cv, &q->mu);
    if (pool && max > 1) {
        /* A pool's batch is its fair share of what is queued: the other idle consumers take
         * the rest at once, so batches are committed side by side rather than one long one. */
        size_t queued = 0;
        for (struct kith_job *j = q->head; j && queued < max * (size_t)q->idle; j = j->next)
            queued++;
        size_t share = (queued + (size_t)q->idle - 1) / (size_t)q->idle;
        max = share < 1 ? 1 : share < max ? share : max;
    }
    q->idle--;
    struct kith_job *first = q->head;
    if (first == NULL) {
        uv_mutex_unlock(&q->mu);
        return NULL;
    }
    struct kith_job *end = first;
    size_t n = 1;
    bool honour = pool || max == 1;
    if (honour && first->barrier) {
        q->barrier_busy = true;
        while (q->running > 0)
            uv_cond_wait(&q->cv, &q->mu);
        max = 1; /* a barrier runs alone */
    }
    while (max > 1 && end->next && n < max && !(pool && end->next->barrier)) {
        end = end->next;
        n++;
    }
    q->head = end->next;
    if (q->head == NULL)
        q->tail = NULL;
    end->next = NULL;
    for (struct kith_job *j = first; j; j = j->next)
        j->running = true;
    q->running += (int)n;
    uv_mutex_unlock(&q->mu);
    *last = end;
    return first;
}

struct kith_job *kith_jobs_take(struct kith_jobs *q, size_t max, struct kith_job **last)
{
    return take(q, max, false, last);
}

struct kith_job *kith_jobs_take_batch(struct kith_jobs *q, size_t max, struct kith_job **last)
{
    return take(q, max, true, last);
}

/* With q->mu held: the jobs first.. are no longer running. */
static void done_running(struct kith_jobs *q, struct kith_job *first)
{
    for (struct kith_job *j = first; j; j = j->next) {
        if (!j->running)
            continue;
        j->running = false;
        q->running--;
        if (j->barrier)
            q->barrier_busy = false;
    }
    uv_cond_broadcast(&q->cv);
}

void kith_jobs_release(struct kith_jobs *q, struct kith_job *first)
{
    uv_mutex_lock(&q->mu);
    done_running(q, first);
    uv_mutex_unlock(&q->mu);
}

void kith_jobs_deliver(struct kith_jobs *q, struct kith_job *first, struct kith_job *last)
{
    uv_mutex_lock(&q->mu);
    done_running(q, first); /* also wakes a loop thread waiting in kith_jobs_drain */
    done_append(q, first, last);
    uv_mutex_unlock(&q->mu);
    /* Workers are joined before the handle is closed, so the handle is alive here. */
    if (q->started)
        uv_async_send(&q->async);
}

void kith_jobs_stop(struct kith_jobs *q)
{
    uv_mutex_lock(&q->mu);
    q->stopping = true;
    uv_cond_broadcast(&q->cv);
    uv_mutex_unlock(&q->mu);
}

/*
 * Runs up to max done callbacks. Each job leaves the list under the lock before its callback
 * runs, and nothing is held across the callback, so a callback may push (the job lands on this
 * list) or close the store (whose own flush answers the rest; this loop then finds none left).
 */
static void run_done(struct kith_jobs *q, size_t max)
{
    while (max-- > 0) {
        uv_mutex_lock(&q->mu);
        struct kith_job *j = q->done_head;
        if (j != NULL) {
            q->done_head = j->next;
            if (q->done_head == NULL)
                q->done_tail = NULL;
            q->done_count--;
            q->pending--;
        }
        uv_mutex_unlock(&q->mu);
        if (j == NULL)
            return;
        j->next = NULL;
        if (j->done)
            j->done(j->arg, j->st);
        free(j);
    }
}

void kith_jobs_flush(struct kith_jobs *q)
{
    /* What was delivered when the wake-up came; later deliveries bring their own wake-up, so
     * a busy store never keeps the loop from reading and writing sockets. */
    uv_mutex_lock(&q->mu);
    size_t n = q->done_count;
    uv_mutex_unlock(&q->mu);
    run_done(q, n);
}

void kith_jobs_drain(struct kith_jobs *q)
{
    if (!q->started)
        return; /* no worker: nothing queued can finish */
    for (;;) {
        uv_mutex_lock(&q->mu);
        while (q->done_head == NULL && q->pending > 0)
            uv_cond_wait(&q->cv, &q->mu);
        bool more = q->done_head != NULL;
        uv_mutex_unlock(&q->mu);
        if (!more)
            return; /* pending is 0: every job pushed has been answered */
        run_done(q, SIZE_MAX);
    }
}

size_t kith_jobs_pending(struct kith_jobs *q)
{
    uv_mutex_lock(&q->mu);
    size_t n = q->pending;
    uv_mutex_unlock(&q->mu);
    return n;
}

static void dispose(struct kith_jobs *q)
{
    run_done(q, SIZE_MAX); /* pushed after the close began: KITH_E_UNAVAILABLE */
    uv_mutex_destroy(&q->mu);
    uv_cond_destroy(&q->cv);
    q->freed(q->owner);
}

static void on_closed(uv_handle_t *h)
{
    dispose(h->data);
}

void kith_jobs_close(struct kith_jobs *q, void (*freed)(void *owner), void *owner)
{
    q->freed = freed;
    q->owner = owner;
    uv_mutex_lock(&q->mu);
    q->closed = true;
    q->stopping = true;
    /* Jobs no worker took (there are none after a drain): answered, never dropped. */
    for (struct kith_job *j = q->head; j; j = j->next)
        j->st = KITH_E_UNAVAILABLE;
    if (q->head)
        done_append(q, q->head, q->tail);
    q->head = q->tail = NULL;
    uv_mutex_unlock(&q->mu);
    run_done(q, SIZE_MAX);
    /* The mutex and condition variable go with the handle, in its close callback: a flush may
     * still be on the stack below us (a done callback closed the store). */
    if (q->started)
        uv_close((uv_handle_t *)&q->async, on_closed);
    else
        dispose(q);
}
