/*
 * ox_pg_pq.h - libpq for the PostgreSQL source, loaded on first use (see
 * ox_dl.h for why; the CM has its own table in cm_pq.h, a layer above).
 *
 * Include this instead of <libpq-fe.h>: the PQ* names below then call
 * through the table that ox_pg_pq_load() fills. Public libpq API only.
 */
#ifndef OX_PG_PQ_H
#define OX_PG_PQ_H

#include <libpq-fe.h>

#include "ox_err.h"

#define OX_PG_PQ_FUNCS(X)                                                                          \
    X(PQclear)                                                                                     \
    X(PQconnectdbParams)                                                                           \
    X(PQconsumeInput)                                                                              \
    X(PQerrorMessage)                                                                              \
    X(PQexec)                                                                                      \
    X(PQexecParams)                                                                                \
    X(PQfinish)                                                                                    \
    X(PQflush)                                                                                     \
    X(PQfreemem)                                                                                   \
    X(PQgetCopyData)                                                                               \
    X(PQgetResult)                                                                                 \
    X(PQgetisnull)                                                                                 \
    X(PQgetvalue)                                                                                  \
    X(PQntuples)                                                                                   \
    X(PQputCopyData)                                                                               \
    X(PQresultErrorField)                                                                          \
    X(PQresultErrorMessage)                                                                        \
    X(PQresultStatus)                                                                              \
    X(PQserverVersion)                                                                             \
    X(PQsocket)                                                                                    \
    X(PQstatus)

struct ox_pg_pq_api {
#define OX_PG_PQ_MEMBER(f) __typeof__(&f) f;
    OX_PG_PQ_FUNCS(OX_PG_PQ_MEMBER)
#undef OX_PG_PQ_MEMBER
};

extern struct ox_pg_pq_api ox_pg_pq;

/* Loads libpq.so.5 once. 0 or OX_EUNSUPP with the reason in eb. Thread-safe. */
int ox_pg_pq_load(ox_errbuf *eb);

#ifndef OX_PG_PQ_NO_MACROS
#define PQclear              (ox_pg_pq.PQclear)
#define PQconnectdbParams    (ox_pg_pq.PQconnectdbParams)
#define PQconsumeInput       (ox_pg_pq.PQconsumeInput)
#define PQerrorMessage       (ox_pg_pq.PQerrorMessage)
#define PQexec               (ox_pg_pq.PQexec)
#define PQexecParams         (ox_pg_pq.PQexecParams)
#define PQfinish             (ox_pg_pq.PQfinish)
#define PQflush              (ox_pg_pq.PQflush)
#define PQfreemem            (ox_pg_pq.PQfreemem)
#define PQgetCopyData        (ox_pg_pq.PQgetCopyData)
#define PQgetResult          (ox_pg_pq.PQgetResult)
#define PQgetisnull          (ox_pg_pq.PQgetisnull)
#define PQgetvalue           (ox_pg_pq.PQgetvalue)
#define PQntuples            (ox_pg_pq.PQntuples)
#define PQputCopyData        (ox_pg_pq.PQputCopyData)
#define PQresultErrorField   (ox_pg_pq.PQresultErrorField)
#define PQresultErrorMessage (ox_pg_pq.PQresultErrorMessage)
#define PQresultStatus       (ox_pg_pq.PQresultStatus)
#define PQserverVersion      (ox_pg_pq.PQserverVersion)
#define PQsocket             (ox_pg_pq.PQsocket)
#define PQstatus             (ox_pg_pq.PQstatus)
#endif

#endif
