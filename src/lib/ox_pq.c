/* ox_pq.c - the libpq function table (see ox_pq.h). */
#include <libpq-fe.h>
#include <pthread.h>
#include <string.h>

#include "ox_dl.h"

/* ox_pq.h's macros must not rename the table's own members here. */
#define OX_PQ_NO_MACROS
#include "ox_pq.h"

struct ox_pq_api ox_pq;

/* Process-wide by nature: one libpq per process, loaded once. */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_rc;
static ox_errbuf load_eb;

static void load(void)
{
    static const ox_dl_sym syms[] = {
#define OX_PQ_SYM(f) {#f, (void **)&ox_pq.f},
        OX_PQ_FUNCS(OX_PQ_SYM)
#undef OX_PQ_SYM
    };
    load_rc = ox_dl_load("libpq.so.5", syms, sizeof syms / sizeof syms[0], &load_eb);
}

int ox_pq_load(ox_errbuf *eb)
{
    pthread_once(&once, load);
    if (load_rc != 0 && eb != NULL)
        memcpy(eb, &load_eb, sizeof *eb);
    return load_rc;
}
