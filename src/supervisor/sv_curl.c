/* sv_curl.c - the libcurl function table (see sv_curl.h). */
#include <pthread.h>
#include <string.h>

#include "ox_dl.h"

#define SV_CURL_NO_MACROS
#include "sv_curl.h"

struct sv_curl_api sv_curl;

/* Process-wide by nature: one libcurl per process, loaded once. */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_rc;
static ox_errbuf load_eb;

static void load(void)
{
    static const ox_dl_sym syms[] = {
#define SV_CURL_SYM(f) {#f, (void **)&sv_curl.f},
        SV_CURL_FUNCS(SV_CURL_SYM)
#undef SV_CURL_SYM
    };
    load_rc = ox_dl_load("libcurl.so.4", syms, sizeof syms / sizeof syms[0], &load_eb);
    if (load_rc == 0 && sv_curl.curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        load_rc = ox_errf(&load_eb, OX_EUNSUPP, "curl_global_init failed");
}

int sv_curl_load(ox_errbuf *eb)
{
    pthread_once(&once, load);
    if (load_rc != 0 && eb != NULL)
        memcpy(eb, &load_eb, sizeof *eb);
    return load_rc;
}
