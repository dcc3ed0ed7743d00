/*
 * queries/fulfilment.h: the ids of the fulfilment feature's store statements, joined into
 * KITH_QUERY_LIST by kith/queries.h. Their SQL is in src/store/sql/fulfilment_sqlite.inc (and
 * fulfilment_pgsql.inc where PostgreSQL needs its own). X(ID, "dotted.name"), as in kith/queries.h.
 */
#ifndef KITH_QUERIES_FULFILMENT_H
#define KITH_QUERIES_FULFILMENT_H

#define KITH_QUERIES_FULFILMENT(X)                                                                 \
    X(FUL_DUE, "fulfilment.due")                                                                   \
    X(FUL_TAKE, "fulfilment.take")                                                                 \
    X(FUL_PAYOUTS, "fulfilment.payouts")                                                           \
    X(FUL_ERASE_CLAIMS, "fulfilment.erase_claims")                                                 \
    X(FUL_ERASE_STRIPE_IDS, "fulfilment.erase_stripe_ids")

#endif
