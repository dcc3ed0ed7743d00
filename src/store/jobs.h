/*
 * jobs.h: the job queue both back-ends share. Jobs are pushed from the loop thread, taken by the
 * back-end's worker thread(s), and their done callbacks are delivered back on the loop thread in
 * the order they finished. Barrier jobs (kith_store_submit_barrier) start only when every job
 * taken before them has finished, and nothing after them starts until they have.
 */
#ifndef KITH_STORE_JOBS_H
#define KITH_STORE_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "kith/store.h"

struct kith_job {
    kith_store_job_fn fn;
    kith_store_done_fn done;
    void *arg;
    bool barrier;
    bool running;
    enum kith_status st;
    struct kith_job *next;
};

struct kith_jobs {
    uv_mutex_t mu; /* also guards the back-end's own hand-over lists */
    uv_cond_t cv;
    struct kith_job *head, *tail;
    struct kith_job *done_head, *done_tail;
    size_t pending;    /* pushed and not delivered */
    int running;       /* taken and not finished */
    bool barrier_busy; /* a barrier job is waiting to start or running */
    bool stopping;
    bool started;
    uv_async_t async;
    void (*freed)(void *owner);
    void *owner;
};

void kith_jobs_init(struct kith_jobs *q);
/* From now on done callbacks are delivered on loop. */
void kith_jobs_start(struct kith_jobs *q, uv_loop_t *loop);
void kith_jobs_push(struct kith_jobs *q, kith_store_job_fn fn, kith_store_done_fn done, void *arg,
                    bool barrier);
/*
 * Blocks until there is work or the queue stops; takes up to max jobs (a list ending at *last)
 * and counts them as running. NULL once stopped and empty. With max > 1 (a single consumer)
 * barriers need no waiting; with max == 1 they are honoured.
 */
struct kith_job *kith_jobs_take(struct kith_jobs *q, size_t max, struct kith_job **last);
/* Marks jobs no longer running without delivering them yet (a back-end's own hand-over). */
void kith_jobs_release(struct kith_jobs *q, struct kith_job *first);
/* Hands finished jobs (first..last) to the loop thread. */
void kith_jobs_deliver(struct kith_jobs *q, struct kith_job *first, struct kith_job *last);
/* Lets the workers run dry and return NULL from take. */
void kith_jobs_stop(struct kith_jobs *q);
/* On the loop thread: runs the done callbacks of every delivered job. */
void kith_jobs_flush(struct kith_jobs *q);
size_t kith_jobs_pending(struct kith_jobs *q);
/* After the workers are joined: closes the loop handle, then calls freed(owner). */
void kith_jobs_close(struct kith_jobs *q, void (*freed)(void *owner), void *owner);

#endif
