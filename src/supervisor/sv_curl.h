/*
 * sv_curl.h - libcurl, loaded on first use (see ox_dl.h for why).
 *
 * Include this instead of <curl/curl.h>: the curl_* names below then call
 * through the table that sv_curl_load() fills. curl's type-checking macros
 * are turned off because they wrap the very names this file redirects.
 */
#ifndef SV_CURL_H
#define SV_CURL_H

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#include "ox_err.h"

#define SV_CURL_FUNCS(X)                                                                           \
    X(curl_easy_cleanup)                                                                           \
    X(curl_easy_getinfo)                                                                           \
    X(curl_easy_init)                                                                              \
    X(curl_easy_perform)                                                                           \
    X(curl_easy_reset)                                                                             \
    X(curl_easy_setopt)                                                                            \
    X(curl_global_init)                                                                            \
    X(curl_slist_append)                                                                           \
    X(curl_slist_free_all)

struct sv_curl_api {
#define SV_CURL_MEMBER(f) __typeof__(&f) f;
    SV_CURL_FUNCS(SV_CURL_MEMBER)
#undef SV_CURL_MEMBER
};

extern struct sv_curl_api sv_curl;

/* Loads libcurl.so.4 once and runs curl_global_init. Returns 0 or
 * OX_EUNSUPP with the reason in eb. Thread-safe. Never logs. */
int sv_curl_load(ox_errbuf *eb);

/* From here on the curl_* names go through the table (sv_curl.c, which
 * defines the table, opts out). */
#ifndef SV_CURL_NO_MACROS
/* curl.h wraps these two in argument-count-checking macros; replace them. */
#undef curl_easy_getinfo
#undef curl_easy_setopt
#define curl_easy_cleanup   (sv_curl.curl_easy_cleanup)
#define curl_easy_getinfo   (sv_curl.curl_easy_getinfo)
#define curl_easy_init      (sv_curl.curl_easy_init)
#define curl_easy_perform   (sv_curl.curl_easy_perform)
#define curl_easy_reset     (sv_curl.curl_easy_reset)
#define curl_easy_setopt    (sv_curl.curl_easy_setopt)
#define curl_global_init    (sv_curl.curl_global_init)
#define curl_slist_append   (sv_curl.curl_slist_append)
#define curl_slist_free_all (sv_curl.curl_slist_free_all)
#endif

#endif
