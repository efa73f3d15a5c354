/* ox_client_ep.c - reconnect decisions of liboxbow-client (see ox_client_ep.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ox_client_ep.h"

int oxc_ep_parse_url(const char *s, size_t len, char *host, size_t hostlen, uint16_t *port,
                     char *err, size_t errlen)
{
    const char *e = s + len;
    if (len >= 8 && strncmp(s, "https://", 8) == 0) {
        snprintf(err, errlen, "https is not supported: \"%.*s\"", (int)len, s);
        return -1;
    }
    if (len >= 7 && strncmp(s, "http://", 7) == 0)
        s += 7;
    while (e > s && (e[-1] == '/' || e[-1] == ' '))
        e--;
    while (s < e && *s == ' ')
        s++;
    const char *colon = NULL;
    for (const char *p = s; p < e; p++) {
        if (*p == '/') {
            snprintf(err, errlen, "a store or CM URL has no path: \"%.*s\"", (int)(e - s), s);
            return -1;
        }
        if (*p == ':')
            colon = p;
        if ((unsigned char)*p <= ' ' || *p == 0x7f) {
            /* A NUL or control byte would cut or garble the host name. */
            snprintf(err, errlen, "a store or CM URL has a control character or space");
            return -1;
        }
    }
    if (colon == NULL || colon == s || (size_t)(colon - s) >= hostlen) {
        snprintf(err, errlen, "expected http://HOST:PORT, got \"%.*s\"", (int)(e - s), s);
        return -1;
    }
    unsigned long v = 0;
    const char *p = colon + 1;
    for (; p < e && *p >= '0' && *p <= '9' && v <= 65535; p++)
        v = v * 10 + (unsigned long)(*p - '0');
    if (p != e || p == colon + 1 || v < 1 || v > 65535) {
        snprintf(err, errlen, "bad port in \"%.*s\"", (int)(e - s), s);
        return -1;
    }
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    *port = (uint16_t)v;
    return 0;
}

int oxc_ep_from_detail(const char *json, size_t len, char *host, size_t hostlen, uint16_t *port,
                       char *err, size_t errlen)
{
    int rc = -1;
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je);
    if (root == NULL) {
        snprintf(err, errlen, "the CM's crawler/detail is not JSON: %s", je.text);
        return -1;
    }
    json_t *cr = json_object_get(root, "crawler");
    json_t *jp = json_object_get(cr, "port");
    json_t *jh = json_object_get(cr, "host");
    json_t *jn = json_object_get(cr, "name");
    if (!json_is_true(json_object_get(root, "isSuccess")) || !json_is_object(cr)) {
        const char *m = json_string_value(json_object_get(root, "errMsg"));
        snprintf(err, errlen, "the CM's crawler/detail failed: %s", m ? m : "no crawler");
        goto cleanup;
    }
    if (!json_is_integer(jp) || json_integer_value(jp) < 1 || json_integer_value(jp) > 65535) {
        snprintf(err, errlen, "the CM's crawler/detail has no store port yet");
        goto cleanup;
    }
    const char *h = json_string_value(jh);
    size_t hl = h ? strlen(h) : 0;
    if (h == NULL || hl == 0) {
        h = json_string_value(jn);
        const char *dash = h ? strchr(h, '-') : NULL;
        hl = dash ? (size_t)(dash - h) : 0;
    }
    if (hl == 0 || hl >= hostlen) {
        snprintf(err, errlen, "the CM's crawler/detail names no store host");
        goto cleanup;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (uint16_t)json_integer_value(jp);
    rc = 0;
cleanup:
    json_decref(root);
    return rc;
}

int oxc_ep_http_transient(int status)
{
    return status == 429 || status >= 500;
}

int oxc_ep_skip(uint64_t last_returned, uint64_t msg_id)
{
    return last_returned > 0 && msg_id <= last_returned;
}
