/*
 * test_moves.c: the engine's two status writers (src/engine/moves.c) on a temporary SQLite
 * store: a move the machine refuses writes nothing and says why, an allowed one stamps the
 * times of its target state in the database and in the caller's copy alike, columns the writer
 * owns cannot be smuggled in through extra or an amendment, and a refusal the caller had ruled
 * out becomes KITH_E_INTERNAL. Not for the flows that decide when to move (the black-box tests
 * cover those), nor for the rule tables (tests/unit/rewards).
 */
#include <unistd.h>

#include "engine/internal.h"
#include "test.h"

static char db_path[512];

static json_t *stored(struct kith_tx *tx, const char *table, const char *id)
{
    json_t *row = NULL;
    CHECK_INT(kith_store_get(tx, table, id, &row), KITH_OK);
    return row ? row : json_object();
}

static bool is_null(json_t *row, const char *col)
{
    return json_is_null(json_object_get(row, col));
}

/* The columns the writers stamp agree between the stored row and the caller's copy. */
static void same_row(json_t *mine, json_t *theirs, const char *const *cols)
{
    for (size_t i = 0; cols[i]; i++) {
        json_t *a = json_object_get(mine, cols[i]), *b = json_object_get(theirs, cols[i]);
        if (!json_equal(a, b))
            fprintf(stderr, "  column %s differs between the copy and the store\n", cols[i]);
        CHECK(json_equal(a, b));
    }
}

static json_t *new_referral(struct kith_tx *tx, const char *id, const char *status)
{
    json_t *row = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:n,s:n,s:n}", "id", id, "program",
                            "prg_1", "referrer", "par_1", "referred", id, "source", "url", "status",
                            status, "created_at", (json_int_t)1000, "updated_at", (json_int_t)1000,
                            "qualified_at", "rewarded_at", "hold_until");
    CHECK_INT(kith_store_insert(tx, "referrals", row), KITH_OK);
    json_decref(row);
    return stored(tx, "referrals", id); /* as the engine holds rows: read from the store */
}

/* One reward per referral here: the live-reward index allows one per (referral, side). */
static json_t *new_reward(struct kith_tx *tx, const char *id, const char *status)
{
    json_t *row =
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:n,s:n,s:n}", "id", id, "program", "prg_1",
                  "participant", "par_1", "referral", id, "side", "referrer", "kind", "gift",
                  "status", status, "created_at", (json_int_t)1000, "updated_at", (json_int_t)1000,
                  "redeemed_at", "voided_at", "expires_days");
    CHECK_INT(kith_store_insert(tx, "rewards", row), KITH_OK);
    json_decref(row);
    return stored(tx, "rewards", id);
}

static const char *const referral_cols[] = {
    "status",     "qualified_at", "rewarded_at", "hold_until",
    "updated_at", "fraud_score",  "fraud_flags", NULL};
static const char *const reward_cols[] = {"status",     "issued_at",  "redeemed_at", "voided_at",
                                          "expires_at", "updated_at", NULL};

static enum kith_status referral_moves(struct kith_tx *tx, void *arg)
{
    struct kith_err err = {"", ""};
    json_t *r = new_referral(tx, "ref_1", "pending"), *db = NULL;
    (void)arg;

    /* Refused: nothing written, the copy untouched, the message names both states. */
    CHECK_INT(kith_eng_referral_move(tx, r, KITH_REFERRAL_REWARDED, NULL, 5000, 6000, &err),
              KITH_E_INVALID_STATE);
    CHECK_STR(err.message, "a pending referral cannot become rewarded");
    CHECK_STR(json_string_value(json_object_get(r, "status")), "pending");
    db = stored(tx, "referrals", "ref_1");
    CHECK_STR(json_string_value(json_object_get(db, "status")), "pending");
    CHECK_INT(json_integer_value(json_object_get(db, "updated_at")), 1000);
    json_decref(db);

    /* Qualified: qualified_at is the event's time, updated_at the write's; hold from extra. */
    json_t *hold = json_pack("{s:I}", "hold_until", (json_int_t)9000);
    CHECK_INT(kith_eng_referral_move(tx, r, KITH_REFERRAL_QUALIFIED, hold, 5000, 6000, &err),
              KITH_OK);
    json_decref(hold);
    db = stored(tx, "referrals", "ref_1");
    CHECK_STR(json_string_value(json_object_get(db, "status")), "qualified");
    CHECK_INT(json_integer_value(json_object_get(db, "qualified_at")), 5000);
    CHECK_INT(json_integer_value(json_object_get(db, "hold_until")), 9000);
    CHECK_INT(json_integer_value(json_object_get(db, "updated_at")), 6000);
    same_row(r, db, referral_cols);
    json_decref(db);

    /* Back to pending (a refund in the hold): not qualified, nothing held. */
    CHECK_INT(kith_eng_referral_move(tx, r, KITH_REFERRAL_PENDING, NULL, 7000, 7000, &err),
              KITH_OK);
    db = stored(tx, "referrals", "ref_1");
    CHECK(is_null(db, "qualified_at"));
    CHECK(is_null(db, "hold_until"));
    same_row(r, db, referral_cols);
    json_decref(db);

    /* Qualified again, then rewarded at the hold's end: rewarded_at is that time. */
    hold = json_pack("{s:I}", "hold_until", (json_int_t)8000);
    CHECK_INT(kith_eng_referral_move(tx, r, KITH_REFERRAL_QUALIFIED, hold, 7500, 7500, &err),
              KITH_OK);
    json_decref(hold);
    CHECK_INT(kith_eng_referral_move(tx, r, KITH_REFERRAL_REWARDED, NULL, 8000, 9500, &err),
              KITH_OK);
    db = stored(tx, "referrals", "ref_1");
    CHECK_STR(json_string_value(json_object_get(db, "status")), "rewarded");
    CHECK_INT(json_integer_value(json_object_get(db, "qualified_at")), 7500);
    CHECK_INT(json_integer_value(json_object_get(db, "rewarded_at")), 8000);
    CHECK(is_null(db, "hold_until"));
    CHECK_INT(json_integer_value(json_object_get(db, "updated_at")), 9500);
    same_row(r, db, referral_cols);
    json_decref(db);

    /* Rewarded is final: rejecting it is refused. */
    CHECK_INT(kith_eng_referral_move(tx, r, KITH_REFERRAL_REJECTED, NULL, 1, 1, &err),
              KITH_E_INVALID_STATE);
    CHECK_STR(err.message, "a rewarded referral cannot become rejected");

    /* Columns the writer owns cannot come in through extra, nor through an amendment. */
    json_t *p = new_referral(tx, "ref_2", "pending");
    json_t *bad = json_pack("{s:s}", "status", "rewarded");
    CHECK_INT(kith_eng_referral_move(tx, p, KITH_REFERRAL_REVIEW, bad, 1, 1, &err),
              KITH_E_INTERNAL);
    CHECK_INT(kith_eng_referral_amend(tx, p, bad, 1, &err), KITH_E_INTERNAL);
    json_decref(bad);
    bad = json_pack("{s:n}", "hold_until"); /* the caller's only for a qualification */
    CHECK_INT(kith_eng_referral_move(tx, p, KITH_REFERRAL_REVIEW, bad, 1, 1, &err),
              KITH_E_INTERNAL);
    json_decref(bad);
    db = stored(tx, "referrals", "ref_2");
    CHECK_STR(json_string_value(json_object_get(db, "status")), "pending");
    CHECK_INT(json_integer_value(json_object_get(db, "updated_at")), 1000);
    json_decref(db);

    /* A re-score: the move carries the fraud columns; an amendment writes them alone. */
    json_t *score = json_pack("{s:i,s:s}", "fraud_score", 2, "fraud_flags", "[\"same_ip\"]");
    CHECK_INT(kith_eng_referral_move(tx, p, KITH_REFERRAL_REVIEW, score, 2000, 2000, &err),
              KITH_OK);
    json_decref(score);
    score =
        json_pack("{s:i,s:s}", "fraud_score", 3, "fraud_flags", "[\"same_ip\",\"same_payment\"]");
    CHECK_INT(kith_eng_referral_amend(tx, p, score, 2500, &err), KITH_OK);
    json_decref(score);
    db = stored(tx, "referrals", "ref_2");
    CHECK_STR(json_string_value(json_object_get(db, "status")), "review");
    CHECK_INT(json_integer_value(json_object_get(db, "fraud_score")), 3);
    CHECK_INT(json_integer_value(json_object_get(db, "updated_at")), 2500);
    same_row(p, db, referral_cols);
    json_decref(db);

    /* Expired only from pending. */
    json_t *e = new_referral(tx, "ref_3", "review");
    CHECK_INT(kith_eng_referral_move(tx, e, KITH_REFERRAL_EXPIRED, NULL, 1, 1, &err),
              KITH_E_INVALID_STATE);
    json_decref(e);

    json_decref(r);
    json_decref(p);
    return KITH_OK;
}

static enum kith_status reward_moves(struct kith_tx *tx, void *arg)
{
    struct kith_err err = {"", ""};
    const struct kith_engine *eng = arg;
    json_t *w = new_reward(tx, "rwd_1", "pending"), *db = NULL;

    CHECK_INT(kith_eng_reward_move(tx, eng, w, KITH_REWARD_REDEEMED, 2000, &err),
              KITH_E_INVALID_STATE);
    CHECK_STR(err.message, "a pending reward cannot become redeemed");
    db = stored(tx, "rewards", "rwd_1");
    CHECK_STR(json_string_value(json_object_get(db, "status")), "pending");
    CHECK(is_null(db, "redeemed_at"));
    json_decref(db);

    CHECK_INT(kith_eng_reward_move(tx, eng, w, KITH_REWARD_VOIDED, 3000, &err), KITH_OK);
    db = stored(tx, "rewards", "rwd_1");
    CHECK_STR(json_string_value(json_object_get(db, "status")), "voided");
    CHECK_INT(json_integer_value(json_object_get(db, "voided_at")), 3000);
    CHECK_INT(json_integer_value(json_object_get(db, "updated_at")), 3000);
    same_row(w, db, reward_cols);
    json_decref(db);
    CHECK_INT(kith_eng_reward_move(tx, eng, w, KITH_REWARD_ISSUED, 4000, &err),
              KITH_E_INVALID_STATE);
    CHECK_STR(err.message, "a voided reward cannot become issued");

    /* An issued reward (issuing itself notifies, which needs a whole program: the black-box
     * tests cover it) is redeemed once, then neither voided nor expired. */
    json_t *i = new_reward(tx, "rwd_2", "issued");
    CHECK_INT(kith_eng_reward_move(tx, eng, i, KITH_REWARD_REDEEMED, 5000, &err), KITH_OK);
    db = stored(tx, "rewards", "rwd_2");
    CHECK_INT(json_integer_value(json_object_get(db, "redeemed_at")), 5000);
    same_row(i, db, reward_cols);
    json_decref(db);
    CHECK_INT(kith_eng_reward_move(tx, eng, i, KITH_REWARD_VOIDED, 6000, &err),
              KITH_E_INVALID_STATE);
    CHECK_STR(err.message, "a redeemed reward cannot become voided");
    CHECK_INT(kith_eng_reward_move(tx, eng, i, KITH_REWARD_EXPIRED, 6000, &err),
              KITH_E_INVALID_STATE);

    json_t *x = new_reward(tx, "rwd_3", "issued");
    CHECK_INT(kith_eng_reward_move(tx, eng, x, KITH_REWARD_EXPIRED, 7000, &err), KITH_OK);
    CHECK_STR(json_string_value(json_object_get(x, "status")), "expired");

    json_decref(w);
    json_decref(i);
    json_decref(x);
    return KITH_OK;
}

static void test_checked(void)
{
    struct kith_err err = {"a pending referral cannot become rewarded", ""};
    CHECK_INT(kith_eng_move_checked(KITH_E_INVALID_STATE, "test", &err), KITH_E_INTERNAL);
    CHECK(strstr(err.message, "a pending referral cannot become rewarded") != NULL);
    CHECK(strstr(err.message, "test") != NULL);
    CHECK_INT(kith_eng_move_checked(KITH_OK, "test", &err), KITH_OK);
    CHECK_INT(kith_eng_move_checked(KITH_E_UNAVAILABLE, "test", &err), KITH_E_UNAVAILABLE);
    CHECK_INT(kith_eng_move_checked(KITH_E_INVALID_STATE, "test", NULL), KITH_E_INTERNAL);
}

static void test_writers(void)
{
    struct kith_store *s = NULL;
    struct kith_err err;
    struct kith_engine eng;
    memset(&eng, 0, sizeof(eng));
    snprintf(db_path, sizeof(db_path), "/tmp/kith-moves-test-%d.db", (int)getpid());
    unlink(db_path);
    CHECK_INT(kith_store_open(db_path, &s, &err), KITH_OK);
    if (s == NULL)
        return;
    CHECK_INT(kith_store_run(s, referral_moves, NULL), KITH_OK);
    CHECK_INT(kith_store_run(s, reward_moves, &eng), KITH_OK);
    kith_store_close(s);
    char side[600];
    unlink(db_path);
    snprintf(side, sizeof(side), "%s-wal", db_path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", db_path);
    unlink(side);
}

int main(void)
{
    RUN(test_writers);
    RUN(test_checked);
    TEST_DONE();
}
