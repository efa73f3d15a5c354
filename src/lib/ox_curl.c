/* ox_curl.c - the libcurl function table (see ox_curl.h). */
#include <pthread.h>
#include <string.h>

#include "ox_dl.h"

#define OX_CURL_NO_MACROS
#include "ox_curl.h"

struct ox_curl_api ox_curl;

/* Process-wide by nature: one libcurl per process, loaded once. */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_rc;
static ox_errbuf load_eb;

static void load(void)
{
    static const ox_dl_sym syms[] = {
#define OX_CURL_SYM(f) {#f, (void **)&ox_curl.f},
        OX_CURL_FUNCS(OX_CURL_SYM)
#undef OX_CURL_SYM
    };
    load_rc = ox_dl_load("libcurl.so.4", syms, sizeof syms / sizeof syms[0], &load_eb);
    if (load_rc == 0 && ox_curl.curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        load_rc = ox_errf(&load_eb, OX_EUNSUPP, "curl_global_init failed");
}

int ox_curl_load(ox_errbuf *eb)
{
    pthread_once(&once, load);
    if (load_rc != 0 && eb != NULL)
        memcpy(eb, &load_eb, sizeof *eb);
    return load_rc;
}
