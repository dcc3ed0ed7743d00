/*
 * test_privacy.c: export and erasure through the engine (CONTRACT section 6b, with sections 3
 * and 4): the export holds everything written about a person; after erasure neither the export,
 * the participant, other people's views nor the notifications show anything personal, the code
 * stays reserved and stops attributing, and the ledger (referrals, rewards, counts) is whole.
 * Runs on SQLite, and on PostgreSQL with KITH_TEST_PG_URL (pg_unit_engine_privacy).
 */
#include "engine_harness.h"

#define T_JANE (H_T0 + H_DAY)
#define T_CLICK (H_T0 + 2 * H_DAY)
#define T_SAM (T_CLICK + H_HOUR)
#define T_APPROVE (H_T0 + 3 * H_DAY)
#define T_BUY (H_T0 + 4 * H_DAY)
#define T_ERASE (H_T0 + 5 * H_DAY)

/* The cast of one story, as created. */
struct story {
    char ann[KITH_ID_MAX], jane[KITH_ID_MAX], sam[KITH_ID_MAX];
    char jane_code[16];
    char ann_to_jane[KITH_ID_MAX], jane_to_sam[KITH_ID_MAX];
};

/*
 * Ann refers Jane (who gives everything a person can give: e-mail, name, metadata, IP, device,
 * card) and Jane gets an alias; a click on Jane's code brings Sam, whose referral goes to review
 * (he uses the same device, dev-42) and is approved; both buy, so everyone is rewarded and
 * notified.
 */
static void tell(struct story *s)
{
    h_program("{\"fraud\": {\"new_account_hours\": 0, \"review_at\": 1, \"reject_at\": 2}, "
              "\"rewards\": [{\"to\": \"referrer\", \"kind\": \"credit\", \"amount\": 2500, "
              "\"currency\": \"USD\"}, {\"to\": \"referred\", \"kind\": \"gift\", "
              "\"description\": \"A welcome box\"}]}");
    json_t *ann = h_participant(
        "{\"external_id\": \"u_ann\", \"first_name\": \"Ann\", \"email\": \"ann@example.com\"}",
        H_T0);
    kith_strlcpy(s->ann, h_str(ann, "id"), sizeof(s->ann));
    json_t *out = h_signup(
        h_fmt("{\"external_id\": \"u_jane\", \"first_name\": \"Jane\", \"email\": "
              "\"jane.doe@example.com\", \"ref\": \"%s\", \"ip\": \"198.51.100.4\", \"device_id\": "
              "\"dev-42\", \"payment_fingerprint\": \"card_fp_jane\", \"metadata\": "
              "{\"city\": \"Lyon\"}}",
              h_str(ann, "code")),
        T_JANE);
    CHECK_JSTR(out, "referral.status", "pending");
    kith_strlcpy(s->jane, h_str(out, "participant.id"), sizeof(s->jane));
    kith_strlcpy(s->jane_code, h_str(out, "participant.code"), sizeof(s->jane_code));
    kith_strlcpy(s->ann_to_jane, h_str(out, "referral.id"), sizeof(s->ann_to_jane));
    enum kith_status st =
        h_call(kith_op_participant_add_code, s->jane, NULL, "{\"code\": \"JDOE1\"}", T_JANE, &out);
    CHECK_ST(st, KITH_CREATED, out);

    h_click("clk_jane1", s->jane_code, T_CLICK, "email", "news.example.org");
    out = h_signup("{\"external_id\": \"u_sam\", \"first_name\": \"Sam\", \"click_id\": "
                   "\"clk_jane1\", \"device_id\": \"dev-42\"}",
                   T_SAM);
    CHECK_JSTR(out, "referral.status", "review");
    kith_strlcpy(s->sam, h_str(out, "participant.id"), sizeof(s->sam));
    kith_strlcpy(s->jane_to_sam, h_str(out, "referral.id"), sizeof(s->jane_to_sam));
    st = h_call(kith_op_referral_approve, s->jane_to_sam, NULL, "{\"reason\": \"verified\"}",
                T_APPROVE, &out);
    CHECK_ST(st, KITH_OK, out);

    out = h_event("{\"type\": \"purchase\", \"external_id\": \"u_jane\", \"amount\": 5000, "
                  "\"payment_fingerprint\": \"card_fp_jane\"}",
                  T_APPROVE);
    CHECK_JSTR(out, "referral.status", "rewarded");
    out = h_event("{\"type\": \"purchase\", \"external_id\": \"u_sam\", \"amount\": 5000}", T_BUY);
    CHECK_JSTR(out, "referral.status", "rewarded");
}

static void test_export_holds_everything(void)
{
    /* CONTRACT 6b: the export is everything kith holds about the person, as one document:
     * participant, codes, clicks, referrals made and received, rewards, notifications, review
     * decisions; IPs only as the fact that a keyed hash is held. */
    struct story s;
    tell(&s);
    json_t *x = h_read(kith_op_participant_export, s.jane, NULL, T_ERASE);
    CHECK_JSTR(x, "participant.id", s.jane);
    CHECK_JSTR(x, "participant.email", "jane.doe@example.com");
    CHECK_JSTR(x, "participant.first_name", "Jane");
    CHECK_JSON(x, "participant.metadata", "{\"city\": \"Lyon\"}");
    CHECK_JSTR(x, "participant.referred_by", s.ann_to_jane);
    CHECK_JBOOL(x, "participant.ip_hash_held", true);
    CHECK_JSTR(x, "participant.device_id", "dev-42");
    CHECK_JSTR(x, "participant.payment_fingerprint", "card_fp_jane");
    CHECK_LACKS(x, "198.51.100.4"); /* never the raw IP (CONTRACT 6b) */

    CHECK_JLEN(x, "codes", 2);
    CHECK_JSTR(x, "codes[0].code", s.jane_code);
    CHECK_JSTR(x, "codes[1].code", "JDOE1");

    CHECK_JLEN(x, "clicks", 1);
    CHECK_JSTR(x, "clicks[0].id", "clk_jane1");
    CHECK_JSTR(x, "clicks[0].channel", "email");
    CHECK_JSTR(x, "clicks[0].referrer_host", "news.example.org");
    CHECK_JSTR(x, "clicks[0].created_at", h_time(T_CLICK));

    CHECK_JLEN(x, "referrals_made", 1);
    CHECK_JSTR(x, "referrals_made[0].id", s.jane_to_sam);
    CHECK_JSTR(x, "referrals_made[0].status", "rewarded");
    CHECK_JSTR(x, "referral_received.id", s.ann_to_jane);
    CHECK_JSTR(x, "referral_received.referrer.id", s.ann);

    CHECK_JLEN(x, "rewards", 2);
    CHECK_JSTR(x, "rewards[0].to", "referred");
    CHECK_JSTR(x, "rewards[0].referral", s.ann_to_jane);
    CHECK_JSTR(x, "rewards[1].to", "referrer");
    CHECK_JSTR(x, "rewards[1].referral", s.jane_to_sam);

    CHECK_JLEN(x, "events", 1);
    CHECK_JSTR(x, "events[0].type", "purchase");
    CHECK_JINT(x, "events[0].amount", 5000);

    /* docs/api: one note per person per stage: welcomed as a friend, her gift, Sam's reward */
    CHECK_JLEN(x, "notifications", 3);
    CHECK_JSTR(x, "notifications[0].stage", "referral_created");
    CHECK_JSTR(x, "notifications[1].stage", "reward_issued");
    CHECK_JSTR(x, "notifications[2].stage", "referral_rewarded");
    CHECK_JMATCH(x, "notifications[2].body", "Sam");

    CHECK_JLEN(x, "review_decisions", 1);
    CHECK_JSTR(x, "review_decisions[0].referral", s.jane_to_sam);
    CHECK_JSTR(x, "review_decisions[0].decision", "approve");
    CHECK_JSTR(x, "review_decisions[0].reason", "verified");
    CHECK_JSTR(x, "exported_at", h_time(T_ERASE));

    enum kith_status st = h_call(kith_op_participant_export, "par_nobody", NULL, NULL, T_ERASE, &x);
    CHECK_ERR(st, x, KITH_E_NOT_FOUND, NULL);
}

/* Nothing personal of Jane's in a document (her device id is Sam's too, so it is checked on her
 * own record only). */
static void expect_nothing_personal(const char *file, int line, json_t *doc)
{
    static const char *const traces[] = {"Jane", "jane.doe", "Lyon", "card_fp_jane"};
    for (size_t i = 0; i < KITH_ARRAY_LEN(traces); i++)
        h_check_holds(file, line, doc, traces[i], false);
}
#define EXPECT_NOTHING_PERSONAL(doc) expect_nothing_personal(__FILE__, __LINE__, (doc))

static void test_erase(void)
{
    /* CONTRACT 6b: erase removes the person's e-mail, name, metadata, hashes and notification
     * texts and returns the participant with erased: true; export and get then show nothing
     * personal, nor do other people's views of their referrals. */
    struct story s;
    tell(&s);
    json_t *out = NULL;
    enum kith_status st = h_call(kith_op_participant_erase, s.jane, NULL, "{}", T_ERASE, &out);
    CHECK_ST(st, KITH_OK, out);
    CHECK_JBOOL(out, "erased", true);
    CHECK_JSTR(out, "id", s.jane);
    CHECK_JNULL(out, "email");
    CHECK_JNULL(out, "first_name");
    CHECK_JSON(out, "metadata", "{}");
    CHECK_JSTR(out, "code", s.jane_code);
    CHECK_JSON(out, "codes", h_fmt("[\"%s\", \"JDOE1\"]", s.jane_code));
    EXPECT_NOTHING_PERSONAL(out);

    out = h_read(kith_op_participant_get, s.jane, NULL, T_ERASE);
    CHECK_JBOOL(out, "erased", true);
    CHECK_JNULL(out, "email");
    CHECK_JNULL(out, "first_name");
    EXPECT_NOTHING_PERSONAL(out);

    json_t *x = h_read(kith_op_participant_export, s.jane, NULL, T_ERASE + H_HOUR);
    CHECK_JNULL(x, "participant.email");
    CHECK_JNULL(x, "participant.first_name");
    CHECK_JSON(x, "participant.metadata", "{}");
    CHECK_JBOOL(x, "participant.ip_hash_held", false);
    CHECK_JNULL(x, "participant.device_id");
    CHECK_JNULL(x, "participant.payment_fingerprint");
    CHECK_JLEN(x, "notifications", 3);
    for (size_t i = 0; i < 3; i++) {
        CHECK_JNULL(x, h_fmt("notifications[%zu].subject", i));
        CHECK_JNULL(x, h_fmt("notifications[%zu].body", i));
    }
    CHECK_JNULL(x, "events[0].payment_fingerprint");
    EXPECT_NOTHING_PERSONAL(x);

    /* what others see of her: no name in their referrals, no trace in their notifications */
    x = h_read(kith_op_participant_export, s.ann, NULL, T_ERASE + H_HOUR);
    CHECK_JSTR(x, "referrals_made[0].referred.id", s.jane);
    CHECK_JNULL(x, "referrals_made[0].referred.first_name");
    EXPECT_NOTHING_PERSONAL(x);
    x = h_read(kith_op_participant_export, s.sam, NULL, T_ERASE + H_HOUR);
    CHECK_JNULL(x, "referral_received.referrer.first_name");
    EXPECT_NOTHING_PERSONAL(x);
    x = h_read(kith_op_participant_notifications, s.ann, NULL, T_ERASE + H_HOUR);
    EXPECT_NOTHING_PERSONAL(x);
    x = h_read(kith_op_referral_list, NULL, NULL, T_ERASE + H_HOUR);
    EXPECT_NOTHING_PERSONAL(x);

    st = h_call(kith_op_participant_erase, "par_nobody", NULL, "{}", T_ERASE, &out);
    CHECK_ERR(st, out, KITH_E_NOT_FOUND, NULL);
}

static void test_erased_code_reserved_ledger_whole(void)
{
    /* CONTRACT 6b and 3: after erasure the code stays reserved (never reused, so an alias equal
     * to it is code_taken) and stops attributing (like a blocked one: referrer_blocked, and the
     * link does not attribute); referrals and rewards stay, so totals do not change. */
    struct story s;
    tell(&s);
    json_t *before = h_read(kith_op_participant_get, s.ann, NULL, T_ERASE);
    json_t *out = NULL;
    enum kith_status st = h_call(kith_op_participant_erase, s.jane, NULL, "{}", T_ERASE, &out);
    CHECK_ST(st, KITH_OK, out);

    out = h_read(kith_op_referral_list, NULL, NULL, T_ERASE);
    CHECK_JLEN(out, "data", 2);
    out = h_read(kith_op_reward_list, NULL, NULL, T_ERASE);
    CHECK_JLEN(out, "data", 4);
    out = h_read(kith_op_reward_list, NULL, h_fmt("participant=%s", s.jane), T_ERASE);
    CHECK_JLEN(out, "data", 2);
    out = h_read(kith_op_participant_get, s.ann, NULL, T_ERASE);
    CHECK(json_equal(h_at(out, "stats"), h_at(before, "stats")));
    CHECK_JSON(out, "stats", "{\"clicks\": 0, \"signups\": 1, \"qualified\": 1, \"rewarded\": 1}");
    out = h_read(kith_op_referral_get, s.jane_to_sam, NULL, T_ERASE);
    CHECK_JSTR(out, "status", "rewarded");
    CHECK_JSTR(out, "referrer.code", s.jane_code);

    json_t *sig = h_signup(h_fmt("{\"external_id\": \"u_new\", \"ref\": \"%s\"}", s.jane_code),
                           T_ERASE + H_HOUR);
    CHECK_JNULL(sig, "referral");
    CHECK_JSON(sig, "attribution",
               "{\"source\": \"organic\", \"rejected\": [{\"source\": \"url\", \"reason\": "
               "\"referrer_blocked\"}]}");
    sig = h_signup("{\"external_id\": \"u_new2\", \"code\": \"jdoe1\"}", T_ERASE + H_HOUR);
    CHECK_JSON(sig, "attribution",
               "{\"source\": \"organic\", \"rejected\": [{\"source\": \"code\", \"reason\": "
               "\"referrer_blocked\"}]}");
    struct kith_link link;
    CHECK_INT(h_resolve(s.jane_code, &link), KITH_OK);
    CHECK(!link.attributes);

    st = h_call(kith_op_participant_add_code, s.ann, NULL, "{\"code\": \"JDOE1\"}", T_ERASE, &out);
    CHECK_ERR(st, out, KITH_E_CODE_TAKEN, "code");
    st = h_call(kith_op_participant_add_code, s.ann, NULL, h_fmt("{\"code\": \"%s\"}", s.jane_code),
                T_ERASE, &out);
    CHECK_ERR(st, out, KITH_E_CODE_TAKEN, "code");
    /* nothing personal can be written back, and no new code added (engine's choice) */
    st = h_call(kith_op_participant_update, s.jane, NULL, "{\"first_name\": \"Jane\"}", T_ERASE,
                &out);
    CHECK_ERR(st, out, KITH_E_INVALID_STATE, NULL);
    st = h_call(kith_op_participant_add_code, s.jane, NULL, "{\"code\": \"JDOE2\"}", T_ERASE, &out);
    CHECK_ERR(st, out, KITH_E_INVALID_STATE, NULL);
}

static void test_click_hashes_dropped_after_windows(void)
{
    /* CONTRACT 6b: a click's IP and user-agent hashes are dropped once it can no longer
     * attribute (older than the program's cookie and attribution windows plus 30 days: here
     * 10 + 30 days), by the sweeper; its counts stay. */
    h_program("{\"cookie_days\": 5, \"attribution_window_days\": 10}");
    json_t *jane = h_participant("{\"external_id\": \"jane\", \"first_name\": \"Jane\"}", H_T0);
    const char *id = h_str(jane, "id");
    h_click("clk_h1", h_str(jane, "code"), T_CLICK, "sms", "");
    h_sweep(T_CLICK + 40 * H_DAY);
    json_t *x = h_read(kith_op_participant_export, id, NULL, T_CLICK + 40 * H_DAY);
    CHECK_JBOOL(x, "clicks[0].has_ip_hash", true);
    h_sweep(T_CLICK + 40 * H_DAY + 1);
    x = h_read(kith_op_participant_export, id, NULL, T_CLICK + 40 * H_DAY + 1);
    CHECK_JLEN(x, "clicks", 1);
    CHECK_JBOOL(x, "clicks[0].has_ip_hash", false);
    CHECK_JSTR(x, "clicks[0].channel", "sms");
    CHECK_JINT(x, "participant.stats.clicks", 1);
}

static void test_erase_drops_own_click_hashes(void)
{
    /* CONTRACT 6b: erasure removes the person's hashes, also those of the click that brought
     * them (kept on the referrer's click). */
    struct story s;
    tell(&s);
    json_t *x = h_read(kith_op_participant_export, s.jane, NULL, T_ERASE);
    CHECK_JBOOL(x, "clicks[0].has_ip_hash", true);
    json_t *out = NULL;
    enum kith_status st = h_call(kith_op_participant_erase, s.sam, NULL, "{}", T_ERASE, &out);
    CHECK_ST(st, KITH_OK, out);
    x = h_read(kith_op_participant_export, s.jane, NULL, T_ERASE);
    CHECK_JSTR(x, "clicks[0].id", "clk_jane1");
    CHECK_JBOOL(x, "clicks[0].has_ip_hash", false);
    x = h_read(kith_op_participant_export, s.sam, NULL, T_ERASE);
    CHECK_JNULL(x, "participant.device_id");
    CHECK_JSTR(x, "referral_received.id", s.jane_to_sam);
}

int main(void)
{
    RUN_DB(test_export_holds_everything);
    RUN_DB(test_erase);
    RUN_DB(test_erased_code_reserved_ledger_whole);
    RUN_DB(test_click_hashes_dropped_after_windows);
    RUN_DB(test_erase_drops_own_click_hashes);
    h_teardown();
    TEST_DONE();
}
