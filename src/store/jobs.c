/*
 * jobs.c: the job queue shared by the SQLite and PostgreSQL back-ends (see jobs.h). Nothing here
 * touches a database; it moves work between the loop thread and the store's worker threads.
 */
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
    if (q->tail)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
    q->pending++;
    uv_cond_signal(&q->cv);
    uv_mutex_unlock(&q->mu);
}

struct kith_job *kith_jobs_take(struct kith_jobs *q, size_t max, struct kith_job **last)
{
    uv_mutex_lock(&q->mu);
    while ((q->head == NULL || q->barrier_busy) && !q->stopping)
        uv_cond_wait(&q->cv, &q->mu);
    struct kith_job *first = q->head;
    if (first == NULL) {
        uv_mutex_unlock(&q->mu);
        return NULL;
    }
    struct kith_job *end = first;
    size_t n = 1;
    if (max == 1 && first->barrier) {
        q->barrier_busy = true;
        while (q->running > 0)
            uv_cond_wait(&q->cv, &q->mu);
    }
    while (max > 1 && end->next && n < max) {
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
    done_running(q, first);
    if (q->done_tail)
        q->done_tail->next = first;
    else
        q->done_head = first;
    q->done_tail = last;
    uv_mutex_unlock(&q->mu);
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

void kith_jobs_flush(struct kith_jobs *q)
{
    uv_mutex_lock(&q->mu);
    struct kith_job *j = q->done_head;
    q->done_head = q->done_tail = NULL;
    uv_mutex_unlock(&q->mu);
    while (j) {
        struct kith_job *next = j->next;
        uv_mutex_lock(&q->mu);
        q->pending--;
        uv_mutex_unlock(&q->mu);
        if (j->done)
            j->done(j->arg, j->st);
        free(j);
        j = next;
    }
}

size_t kith_jobs_pending(struct kith_jobs *q)
{
    uv_mutex_lock(&q->mu);
    size_t n = q->pending;
    uv_mutex_unlock(&q->mu);
    return n;
}

static void on_closed(uv_handle_t *h)
{
    struct kith_jobs *q = h->data;
    q->freed(q->owner);
}

void kith_jobs_close(struct kith_jobs *q, void (*freed)(void *owner), void *owner)
{
    uv_mutex_destroy(&q->mu);
    uv_cond_destroy(&q->cv);
    q->freed = freed;
    q->owner = owner;
    if (q->started)
        uv_close((uv_handle_t *)&q->async, on_closed);
    else
        freed(owner);
}
