/* cm_pq.c - the libpq function table (see cm_pq.h). */
#include <libpq-fe.h>
#include <pthread.h>
#include <string.h>

#include "ox_dl.h"

/* cm_pq.h's macros must not rename the table's own members here. */
#define CM_PQ_NO_MACROS
#include "cm_pq.h"

struct cm_pq_api cm_pq;

/* Process-wide by nature: one libpq per process, loaded once. */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_rc;
static ox_errbuf load_eb;

static void load(void)
{
    static const ox_dl_sym syms[] = {
#define CM_PQ_SYM(f) {#f, (void **)&cm_pq.f},
        CM_PQ_FUNCS(CM_PQ_SYM)
#undef CM_PQ_SYM
    };
    load_rc = ox_dl_load("libpq.so.5", syms, sizeof syms / sizeof syms[0], &load_eb);
}

int cm_pq_load(ox_errbuf *eb)
{
    pthread_once(&once, load);
    if (load_rc != 0 && eb != NULL)
        memcpy(eb, &load_eb, sizeof *eb);
    return load_rc;
}
