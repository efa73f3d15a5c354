/* ox_http_client.c - one HTTP request over a reused libcurl handle (see
 * ox_curl.h): the supervisor's heartbeats and status polls, the CM's reads of
 * remote store logs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ox_buf.h"
#include "ox_curl.h"

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    ox_buf *b = arg;
    if (b->len + size * n > (64u << 20))
        return 0; /* refuse absurd responses */
    ox_buf_put(b, p, size * n);
    return size * n;
}

int ox_http_request(void *h, const char *url, const char *token, const char *body, long timeout_ms,
                    char **out)
{
    CURL *c = h;
    ox_buf b = OX_BUF_INIT;
    struct curl_slist *hdr = NULL;
    char auth[1100];
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 2000 ? timeout_ms : 2000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (token != NULL) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
        hdr = curl_slist_append(hdr, auth);
    }
    if (body != NULL) {
        hdr = curl_slist_append(hdr, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    if (hdr)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hdr);
    /* Scrub the token copy on the stack. */
    memset(auth, 0, sizeof auth);
    if (rc != CURLE_OK) {
        ox_buf_free(&b);
        *out = NULL;
        return rc == CURLE_OPERATION_TIMEDOUT ? OX_ETIMEDOUT : OX_ECONN;
    }
    ox_buf_putc(&b, 0);
    *out = (char *)b.data;
    return (int)code;
}
