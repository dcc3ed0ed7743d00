/*
 * jobs.h: the job queue both back-ends share. Jobs are pushed from the loop thread, taken by the
 * back-end's worker thread(s), and their done callbacks are delivered back on the loop thread in
 * the order they finished. Barrier jobs (kith_store_submit_barrier) start only when every job
 * taken before them has finished, and nothing after them starts until they have.
 *
 * Teardown (a back-end's close, on the loop thread): kith_jobs_drain until nothing is left,
 * kith_jobs_stop, join the workers, then kith_jobs_close. Every job pushed is answered exactly
 * once: it ran and its done callback saw its status, or (pushed after the workers were joined)
 * its done callback saw KITH_E_UNAVAILABLE. The queue's mutex, condition variable and uv_async_t
 * (and the back-end's memory around them) live until the handle's close callback ran, so a flush
 * still on the stack when one of its done callbacks closed the store never touches destroyed
 * state, and no worker is left to signal a handle that is closing.
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
    uv_cond_t cv;  /* work for the workers, a finished job for a draining loop thread */
    struct kith_job *head, *tail;
    struct kith_job *done_head, *done_tail;
    size_t done_count; /* on the done list */
    size_t pending;    /* pushed and whose done callback has not been called yet */
    int running;       /* taken and not finished */
    int idle;          /* workers waiting in kith_jobs_take* */
    bool barrier_busy; /* a barrier job is waiting to start or running */
    bool stopping;     /* the workers return once the queue is empty */
    bool closed;       /* the workers are gone: a push is answered KITH_E_UNAVAILABLE */
    bool started;
    uv_async_t async;
    void (*freed)(void *owner);
    void *owner;
};

void kith_jobs_init(struct kith_jobs *q);
/* From now on done callbacks are delivered on loop. */
void kith_jobs_start(struct kith_jobs *q, uv_loop_t *loop);
/* On the loop thread. After kith_jobs_close began, the job is answered KITH_E_UNAVAILABLE. */
void kith_jobs_push(struct kith_jobs *q, kith_store_job_fn fn, kith_store_done_fn done, void *arg,
                    bool barrier);
/*
 * Blocks until there is work or the queue stops; takes up to max jobs (a list ending at *last)
 * and counts them as running. NULL once stopped and empty. With max > 1 (a single consumer)
 * barriers need no waiting; with max == 1 they are honoured, while stopping too.
 */
struct kith_job *kith_jobs_take(struct kith_jobs *q, size_t max, struct kith_job **last);
/*
 * The same for one of several consumers (a pool) taking batches: up to max jobs that stop before
 * the next barrier; a barrier is taken alone, once every job taken before it has finished, and
 * holds back every consumer until it has finished.
 */
struct kith_job *kith_jobs_take_batch(struct kith_jobs *q, size_t max, struct kith_job **last);
/* Marks jobs no longer running without delivering them yet (a back-end's own hand-over). */
void kith_jobs_release(struct kith_jobs *q, struct kith_job *first);
/* Hands finished jobs (first..last) to the loop thread. */
void kith_jobs_deliver(struct kith_jobs *q, struct kith_job *first, struct kith_job *last);
/*
 * On the loop thread, with the workers running: runs done callbacks, waiting for the workers as
 * needed, until every job pushed (including those pushed by the callbacks it ran) is answered.
 * Safe to call from inside a done callback.
 */
void kith_jobs_drain(struct kith_jobs *q);
/* Lets the workers run dry and return NULL from take. */
void kith_jobs_stop(struct kith_jobs *q);
/*
 * On the loop thread: runs the done callbacks of every delivered job, one at a time, so that a
 * callback may push jobs or close the store (the rest are then answered by the close).
 */
void kith_jobs_flush(struct kith_jobs *q);
size_t kith_jobs_pending(struct kith_jobs *q);
/*
 * After the workers are joined: answers what is left (KITH_E_UNAVAILABLE), closes the loop
 * handle; its close callback answers anything pushed meanwhile, destroys the mutex and condition
 * variable, then calls freed(owner). Without kith_jobs_start, all of that happens at once.
 */
void kith_jobs_close(struct kith_jobs *q, void (*freed)(void *owner), void *owner);

#endif
