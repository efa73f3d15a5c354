/*
 * ox_pq.h - libpq, loaded on first use (see ox_dl.h for why), for every
 * module that talks to PostgreSQL: the CM's metaDB back end and the
 * PostgreSQL capture source. One table, one loader, one list of the libpq
 * functions oxbow uses (public libpq API only).
 *
 * Include this instead of <libpq-fe.h>: the PQ* names below then call
 * through the table that ox_pq_load() fills. Call ox_pq_load() before the
 * first PQ* call; it is cheap after the first time.
 */
#ifndef OX_PQ_H
#define OX_PQ_H

#include <libpq-fe.h>

#include "ox_err.h"

#define OX_PQ_FUNCS(X)                                                                             \
    X(PQclear)                                                                                     \
    X(PQconnectdbParams)                                                                           \
    X(PQconsumeInput)                                                                              \
    X(PQerrorMessage)                                                                              \
    X(PQexec)                                                                                      \
    X(PQexecParams)                                                                                \
    X(PQexecPrepared)                                                                              \
    X(PQfinish)                                                                                    \
    X(PQflush)                                                                                     \
    X(PQfreemem)                                                                                   \
    X(PQgetCopyData)                                                                               \
    X(PQgetResult)                                                                                 \
    X(PQgetisnull)                                                                                 \
    X(PQgetvalue)                                                                                  \
    X(PQnfields)                                                                                   \
    X(PQntuples)                                                                                   \
    X(PQprepare)                                                                                   \
    X(PQputCopyData)                                                                               \
    X(PQreset)                                                                                     \
    X(PQresultErrorField)                                                                          \
    X(PQresultErrorMessage)                                                                        \
    X(PQresultStatus)                                                                              \
    X(PQserverVersion)                                                                             \
    X(PQsocket)                                                                                    \
    X(PQstatus)

struct ox_pq_api {
#define OX_PQ_MEMBER(f) __typeof__(&f) f;
    OX_PQ_FUNCS(OX_PQ_MEMBER)
#undef OX_PQ_MEMBER
};

extern struct ox_pq_api ox_pq;

/* Loads libpq.so.5 once. Returns 0 or OX_EUNSUPP with the reason in eb.
 * Thread-safe. Never logs. */
int ox_pq_load(ox_errbuf *eb);

/* From here on the PQ* names go through the table (ox_pq.c itself, which
 * defines the table, opts out). */
#ifndef OX_PQ_NO_MACROS
#define PQclear              (ox_pq.PQclear)
#define PQconnectdbParams    (ox_pq.PQconnectdbParams)
#define PQconsumeInput       (ox_pq.PQconsumeInput)
#define PQerrorMessage       (ox_pq.PQerrorMessage)
#define PQexec               (ox_pq.PQexec)
#define PQexecParams         (ox_pq.PQexecParams)
#define PQexecPrepared       (ox_pq.PQexecPrepared)
#define PQfinish             (ox_pq.PQfinish)
#define PQflush              (ox_pq.PQflush)
#define PQfreemem            (ox_pq.PQfreemem)
#define PQgetCopyData        (ox_pq.PQgetCopyData)
#define PQgetResult          (ox_pq.PQgetResult)
#define PQgetisnull          (ox_pq.PQgetisnull)
#define PQgetvalue           (ox_pq.PQgetvalue)
#define PQnfields            (ox_pq.PQnfields)
#define PQntuples            (ox_pq.PQntuples)
#define PQprepare            (ox_pq.PQprepare)
#define PQputCopyData        (ox_pq.PQputCopyData)
#define PQreset              (ox_pq.PQreset)
#define PQresultErrorField   (ox_pq.PQresultErrorField)
#define PQresultErrorMessage (ox_pq.PQresultErrorMessage)
#define PQresultStatus       (ox_pq.PQresultStatus)
#define PQserverVersion      (ox_pq.PQserverVersion)
#define PQsocket             (ox_pq.PQsocket)
#define PQstatus             (ox_pq.PQstatus)
#endif

#endif
