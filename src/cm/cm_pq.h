/*
 * cm_pq.h - libpq, loaded on first use (see ox_dl.h for why).
 *
 * Include this instead of <libpq-fe.h>: the PQ* names below then call
 * through the table that cm_pq_load() fills. Call cm_pq_load() before the
 * first PQ* call; it is cheap after the first time.
 */
#ifndef CM_PQ_H
#define CM_PQ_H

#include <libpq-fe.h>

#include "ox_err.h"

#define CM_PQ_FUNCS(X)                                                                             \
    X(PQclear)                                                                                     \
    X(PQconnectdbParams)                                                                           \
    X(PQerrorMessage)                                                                              \
    X(PQexec)                                                                                      \
    X(PQexecParams)                                                                                \
    X(PQexecPrepared)                                                                              \
    X(PQfinish)                                                                                    \
    X(PQgetisnull)                                                                                 \
    X(PQgetvalue)                                                                                  \
    X(PQnfields)                                                                                   \
    X(PQntuples)                                                                                   \
    X(PQprepare)                                                                                   \
    X(PQreset)                                                                                     \
    X(PQresultErrorMessage)                                                                        \
    X(PQresultStatus)                                                                              \
    X(PQstatus)

struct cm_pq_api {
#define CM_PQ_MEMBER(f) __typeof__(&f) f;
    CM_PQ_FUNCS(CM_PQ_MEMBER)
#undef CM_PQ_MEMBER
};

extern struct cm_pq_api cm_pq;

/* Loads libpq.so.5 once. Returns 0 or OX_EUNSUPP with the reason in eb.
 * Thread-safe. Never logs. */
int cm_pq_load(ox_errbuf *eb);

/* From here on the PQ* names go through the table (cm_pq.c itself, which
 * defines the table, opts out). */
#ifndef CM_PQ_NO_MACROS
#define PQclear              (cm_pq.PQclear)
#define PQconnectdbParams    (cm_pq.PQconnectdbParams)
#define PQerrorMessage       (cm_pq.PQerrorMessage)
#define PQexec               (cm_pq.PQexec)
#define PQexecParams         (cm_pq.PQexecParams)
#define PQexecPrepared       (cm_pq.PQexecPrepared)
#define PQfinish             (cm_pq.PQfinish)
#define PQgetisnull          (cm_pq.PQgetisnull)
#define PQgetvalue           (cm_pq.PQgetvalue)
#define PQnfields            (cm_pq.PQnfields)
#define PQntuples            (cm_pq.PQntuples)
#define PQprepare            (cm_pq.PQprepare)
#define PQreset              (cm_pq.PQreset)
#define PQresultErrorMessage (cm_pq.PQresultErrorMessage)
#define PQresultStatus       (cm_pq.PQresultStatus)
#define PQstatus             (cm_pq.PQstatus)
#endif

#endif
