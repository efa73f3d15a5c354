/*
 * ox_curl.h - libcurl, loaded on first use (see ox_dl.h for why).
 *
 * Include this instead of <curl/curl.h>: the curl_* names below then call
 * through the table that ox_curl_load() fills. curl's type-checking macros
 * are turned off because they wrap the very names this file redirects.
 */
#ifndef OX_CURL_H
#define OX_CURL_H

#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#include "ox_err.h"

#define OX_CURL_FUNCS(X)                                                                           \
    X(curl_easy_cleanup)                                                                           \
    X(curl_easy_getinfo)                                                                           \
    X(curl_easy_init)                                                                              \
    X(curl_easy_perform)                                                                           \
    X(curl_easy_reset)                                                                             \
    X(curl_easy_setopt)                                                                            \
    X(curl_global_init)                                                                            \
    X(curl_slist_append)                                                                           \
    X(curl_slist_free_all)

struct ox_curl_api {
#define OX_CURL_MEMBER(f) __typeof__(&f) f;
    OX_CURL_FUNCS(OX_CURL_MEMBER)
#undef OX_CURL_MEMBER
};

extern struct ox_curl_api ox_curl;

/* Loads libcurl.so.4 once and runs curl_global_init. Returns 0 or
 * OX_EUNSUPP with the reason in eb. Thread-safe. Never logs. */
int ox_curl_load(ox_errbuf *eb);

/* One request on a curl handle (curl_easy_init). body may be NULL (GET). Returns HTTP status or
 * negative OX_E*; *out gets the response body (caller frees). */
int ox_http_request(void *curl, const char *url, const char *token, const char *body,
                    long timeout_ms, char **out);

/* From here on the curl_* names go through the table (ox_curl.c, which
 * defines the table, opts out). */
#ifndef OX_CURL_NO_MACROS
/* curl.h wraps these two in argument-count-checking macros; replace them. */
#undef curl_easy_getinfo
#undef curl_easy_setopt
#define curl_easy_cleanup   (ox_curl.curl_easy_cleanup)
#define curl_easy_getinfo   (ox_curl.curl_easy_getinfo)
#define curl_easy_init      (ox_curl.curl_easy_init)
#define curl_easy_perform   (ox_curl.curl_easy_perform)
#define curl_easy_reset     (ox_curl.curl_easy_reset)
#define curl_easy_setopt    (ox_curl.curl_easy_setopt)
#define curl_global_init    (ox_curl.curl_global_init)
#define curl_slist_append   (ox_curl.curl_slist_append)
#define curl_slist_free_all (ox_curl.curl_slist_free_all)
#endif

#endif
