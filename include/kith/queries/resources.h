/*
 * queries/resources.h: the ids of the resources feature's store statements, joined into
 * KITH_QUERY_LIST by kith/queries.h. Their SQL is in src/store/sql/resources_sqlite.inc (and
 * resources_pgsql.inc where PostgreSQL needs its own). X(ID, "dotted.name"), as in kith/queries.h.
 */
#ifndef KITH_QUERIES_RESOURCES_H
#define KITH_QUERIES_RESOURCES_H

#define KITH_QUERIES_RESOURCES(X)                                                                  \
    X(RESOURCES_BY_SLUG, "resources.by_slug")                                                      \
    X(RESOURCES_BY_EXTERNAL, "resources.by_external")                                              \
    X(RESOURCES_LIST, "resources.list")                                                            \
    X(RESOURCES_ACTIVE, "resources.active")                                                        \
    X(RESOURCES_SLUGS, "resources.slugs")                                                          \
    X(LEADS_BY_EMAIL_RESOURCE, "leads.by_email_resource")                                          \
    X(LEADS_INSERT, "leads.insert")                                                                \
    X(LEADS_LIST, "leads.list")                                                                    \
    X(LEADS_GET, "leads.get")                                                                      \
    X(LEADS_CANDIDATE, "leads.candidate")                                                          \
    X(LEADS_OPEN_OF_EMAIL, "leads.open_of_email")                                                  \
    X(LEADS_CONVERT_MESSAGES, "leads.convert_messages")                                            \
    X(LEADS_CONVERT, "leads.convert")                                                              \
    X(LEADS_DUE, "leads.due")                                                                      \
    X(LEADS_SCHEDULE, "leads.schedule")                                                            \
    X(LEADS_RESCHEDULE, "leads.reschedule")                                                        \
    X(LEADS_UNSUBSCRIBE, "leads.unsubscribe")                                                      \
    X(LEADS_ERASE, "leads.erase")                                                                  \
    X(LEADS_OF_REFERRER, "leads.of_referrer")                                                      \
    X(LEADS_OF_PARTICIPANT, "leads.of_participant")                                                \
    X(LEAD_MESSAGES_INSERT, "lead_messages.insert")                                                \
    X(LEAD_MESSAGES_LIST, "lead_messages.list")                                                    \
    X(LEAD_MESSAGES_CANCEL, "lead_messages.cancel")                                                \
    X(LEAD_MESSAGES_ERASE, "lead_messages.erase")                                                  \
    X(LEAD_MAIL_OUTBOX, "lead_mail.outbox")                                                        \
    X(LEAD_MAIL_SENDING, "lead_mail.sending")                                                      \
    X(LEAD_MAIL_RECOVER, "lead_mail.recover")                                                      \
    X(LEAD_TOKENS_INSERT, "lead_tokens.insert")                                                    \
    X(LEAD_TOKENS_FIND, "lead_tokens.find")                                                        \
    X(LEAD_TOKENS_ERASE, "lead_tokens.erase")                                                      \
    X(METRICS_RES_CLICKS, "metrics.resource_clicks")                                               \
    X(METRICS_RES_LEADS, "metrics.resource_leads")                                                 \
    X(METRICS_RES_SIGNUPS, "metrics.resource_signups")                                             \
    X(METRICS_RES_QUALIFIED, "metrics.resource_qualified")

#endif
