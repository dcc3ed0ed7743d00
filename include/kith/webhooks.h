/*
 * webhooks.h: kith's outgoing and incoming HTTP signatures, the network policy that keeps
 * outgoing requests away from private networks (checked at connect time, on the resolved
 * address), the retry schedule, and the sender: a thread that runs libcurl's multi interface for
 * webhook deliveries, e-mail over SMTP and API calls whose answers the caller reads (Stripe, for
 * reward fulfilment), and posts each result back to the loop.
 * Signing follows the Standard Webhooks specification; Stripe and Shopify verification follow
 * their documented schemes, with the HMAC, base64 and constant-time helpers of src/crypto.
 */
#ifndef KITH_WEBHOOKS_H
#define KITH_WEBHOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "kith/core.h"

/* ---- signatures (sign.c) ---- */

#define KITH_WEBHOOK_SECRET_MAX 128    /* "whsec_" + base64 of up to 64 bytes, NUL */
#define KITH_WEBHOOK_SIGNATURE_MAX 128 /* "v1," + base64 of 32 bytes, NUL */

/* A new endpoint secret: "whsec_" + standard base64 of 32 random bytes. */
void kith_webhook_secret_new(char out[KITH_WEBHOOK_SECRET_MAX]);

/*
 * Standard Webhooks signature of one attempt: "v1," + base64(HMAC-SHA256(key,
 * "<msg_id>.<ts>.<body>")) where key is the base64-decoded part of secret after "whsec_". Returns
 * KITH_E_INVALID_PARAM for a malformed secret.
 */
enum kith_status kith_webhook_sign(const char *secret, const char *msg_id, int64_t timestamp_s,
                                   const char *body, size_t body_len,
                                   char out[KITH_WEBHOOK_SIGNATURE_MAX]);

/*
 * Stripe-Signature check: header "t=<unix>,v1=<hex>[,v1=...][,v0=...]"; valid when some v1 equals
 * hex(HMAC-SHA256(secret as given, "<t>.<body>")) compared in constant time and |now_s - t| <=
 * tolerance_s. v0 entries are ignored. Malformed headers are simply invalid.
 */
bool kith_stripe_verify(const char *secret, const char *header, const char *body, size_t body_len,
                        int64_t now_s, int64_t tolerance_s);

/* X-Shopify-Hmac-Sha256 check: base64(HMAC-SHA256(secret, body)), compared in constant time. */
bool kith_shopify_verify(const char *secret, const char *hmac_b64, const char *body,
                         size_t body_len);

/* ---- network policy (netpolicy.c) ---- */

struct kith_netpolicy;

/*
 * Builds the policy from KITH_WEBHOOK_ALLOW_CIDRS-style text: comma- or space-separated CIDRs
 * ("127.0.0.0/8, ::1/128"); NULL or "" opens nothing. Refused by default: loopback, private
 * (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16, fe80::/10), CGNAT
 * (100.64/10), multicast (224/4, ff00::/8), documentation (192.0.2/24, 198.51.100/24,
 * 203.0.113/24, 2001:db8::/32), "this network" 0/8, broadcast and reserved 240/4, benchmarking
 * 198.18/15, unspecified (::), and IPv4-mapped/compatible/NAT64 IPv6 forms of any of those
 * (::ffff:0:0/96 is judged by its embedded IPv4 address).
 */
enum kith_status kith_netpolicy_create(const char *allow_cidrs, struct kith_netpolicy **out,
                                       struct kith_err *err);
void kith_netpolicy_destroy(struct kith_netpolicy *p);
/* True when a connection to sa (AF_INET or AF_INET6) is allowed. Thread-safe (read-only). */
bool kith_netpolicy_allows(const struct kith_netpolicy *p, const struct sockaddr *sa);

/* ---- retry schedule (netpolicy.c or sign.c: pure) ---- */

#define KITH_WEBHOOK_ATTEMPTS_MAX 8 /* the first try and 7 retries */

/*
 * Delay before retry number `attempt` (1 = the first retry, after the first failed try): 5 s,
 * 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, each with up to +-10% jitter chosen by jitter (0..65535)
 * except the first; a Retry-After of retry_after_s >= 0 seconds replaces the delay when it is
 * longer (capped at 24 h). Returns -1 when attempt > 7: the message has failed.
 */
int64_t kith_webhook_retry_delay_ms(int attempt, int64_t retry_after_s, uint32_t jitter);

/* ---- the sender (sender.c) ---- */

struct kith_sender;

struct kith_send_request {
    uint64_t tag;     /* the caller's id for this attempt, returned in the result */
    const char *url;  /* http or https */
    const char *body; /* the JSON body */
    size_t body_len;
    const char *msg_id;    /* webhook-id */
    int64_t timestamp_s;   /* webhook-timestamp */
    const char *signature; /* webhook-signature */
};

struct kith_mail_request {
    uint64_t tag;
    const char *smtp_url; /* smtp://host:port or smtps://... (credentials in the URL ok) */
    const char *from;     /* envelope and header From */
    const char *to;
    const char *subject; /* CR and LF are removed before use */
    const char *body;    /* plain text, UTF-8 */
};

/*
 * An API call whose answer the caller reads (kith_sender_call): GET, or POST with body as given
 * (its Content-Type among headers). headers are "Name: value" lines (NULL-terminated array; a CR
 * or LF ends a line there). Not judged by the network policy: the URL is the operator's own
 * setting (KITH_STRIPE_API_BASE), not a receiver anyone can register.
 */
#define KITH_SENDER_CALL_KEEP_MAX (1024 * 1024) /* answer bytes kept by default */
struct kith_call_request {
    uint64_t tag;
    bool get;
    const char *url; /* http or https */
    const char *const *headers;
    const char *body; /* POST only */
    size_t body_len;
    size_t keep_max; /* answer bytes kept; 0: KITH_SENDER_CALL_KEEP_MAX. Longer: failed */
};

struct kith_send_result {
    uint64_t tag;
    int http_status; /* 0 when no HTTP answer arrived (refused, timeout, policy) */
    int64_t latency_ms;
    int64_t retry_after_s; /* from a Retry-After header in seconds, -1 when absent */
    bool ok;               /* 2xx for HTTP; accepted for SMTP */
    char error[128];       /* short reason when !ok: "timeout", "blocked_address", ... */
    /* kith_sender_call only: the answer's body (NUL-terminated; any status), NULL when no answer
     * arrived or it was longer than keep_max ("response_too_large"). Borrowed: valid during
     * on_result only. */
    char *body;
    size_t body_len;
    int should_retry; /* kith_sender_call: Stripe-Should-Retry true 1, false 0, absent -1 */
};

typedef void (*kith_send_result_fn)(void *ctx, const struct kith_send_result *res);

/*
 * Starts the sender thread. Results are delivered by calling on_result(ctx, res) on loop's
 * thread. The policy is borrowed and must outlive the sender. timeout_ms bounds each transfer
 * (15000 for webhooks). Redirects are never followed; only http and https (smtp/smtps for mail)
 * protocols are enabled; the receiver's response body is read and discarded, never kept.
 */
enum kith_status kith_sender_create(uv_loop_t *loop, const struct kith_netpolicy *policy,
                                    uint32_t timeout_ms, kith_send_result_fn on_result, void *ctx,
                                    struct kith_sender **out, struct kith_err *err);
/* Queues a webhook POST; copies everything it needs. Thread-safe. */
void kith_sender_post(struct kith_sender *s, const struct kith_send_request *req);
/* Queues an e-mail; copies everything it needs. Thread-safe. */
void kith_sender_mail(struct kith_sender *s, const struct kith_mail_request *req);
/* Queues an API call (above); copies everything it needs. Thread-safe. */
void kith_sender_call(struct kith_sender *s, const struct kith_call_request *req);
/* Transfers queued or running. */
size_t kith_sender_busy(struct kith_sender *s);
/*
 * Stops: transfers in flight are abandoned (their results never arrive; the caller's records
 * still say pending, so they are retried after restart). Call on the loop thread; the sender is
 * freed when its handle has closed (let uv_run return). NULL is a no-op.
 */
void kith_sender_destroy(struct kith_sender *s);

#endif
