/*
 * ox_client_ep.h - liboxbow-client's reconnect decisions (internal): where
 * a store is (a URL of the list, or the CM's crawler/detail answer), which
 * failures are worth another try, and which re-sent records to skip. Pure
 * functions, so that tests/unit/test_client_reconnect.c and
 * tests/fuzz/fuzz_client_detail.c can drive them. Nothing here logs,
 * blocks or keeps state.
 */
#ifndef OX_CLIENT_EP_H
#define OX_CLIENT_EP_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parses "http://HOST:PORT", "http://HOST:PORT/" or "HOST:PORT" (s[0..len))
 * into host (NUL-terminated) and port. Returns 0, or -1 with a reason in err
 * (https, a path, a missing or bad port, a host too long).
 */
int oxc_ep_parse_url(const char *s, size_t len, char *host, size_t hostlen, uint16_t *port,
                     char *err, size_t errlen);

/*
 * Reads the store's address from a CM crawler/detail answer (docs/api.md):
 * crawler.port, and the host from crawler.host when present, else the IP
 * before the '-' of crawler.name ("10.0.0.1-7100:topic-000-0:0000000001").
 * Returns 0, or -1 with a reason in err (not JSON, isSuccess false, no
 * port yet).
 */
int oxc_ep_from_detail(const char *json, size_t len, char *host, size_t hostlen, uint16_t *port,
                       char *err, size_t errlen);

/* 1 if an HTTP answer with this status is worth another try (5xx, 429),
 * 0 if it is final (2xx, 3xx, other 4xx). */
int oxc_ep_http_transient(int status);

/* 1 if a record with msg_id must be skipped because the caller already has
 * it (a store re-sending from before the resume checkpoint): msg_id at or
 * below last, once a record was returned (last > 0). */
int oxc_ep_skip(uint64_t last_returned, uint64_t msg_id);

#endif
