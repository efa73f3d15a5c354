/*
 * fuzz_cm_http.c - whole HTTP requests to the CM: libmicrohttpd's parsing,
 * then our routing (404/405), bearer-token check, body limits, query and
 * form parsing, parameter checks and the handlers themselves, against a real
 * CM (SQLite metaDB in a private directory, no supervisor, no waiting for
 * one). Requests reach MHD through a socketpair (http_inject.h).
 *
 * State carries over between inputs (a topic created by one input can be
 * deleted by the next), as it does for a real CM under hostile clients.
 *
 * Invariants checked on every answer: our answers (JSON) parse,
 * carry a boolean isSuccess, and an error carries an errMsg; a handler never
 * falls through without a response (500); the token is never echoed.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cm_internal.h"
#include "http_inject.h"
#include "ox_assert.h"
#include "ox_cm.h"

#define FUZZ_TOKEN "fuzz-token-0123456789"

static ox_cm *the_cm;

static void cm_boot(void)
{
    const char *dir = http_inject_tmpdir("cm");
    char text[1024];
    snprintf(text, sizeof text,
             "cm.data.dir=%s/data\ncm.supervisor=false\ncm.apply.wait_ms=0\n"
             "cm.auth.token=" FUZZ_TOKEN "\ncm.port=1\ncm.http.max_body=4096\n",
             dir);
    ox_props *p = NULL;
    ox_errbuf eb;
    ox_assert(ox_props_parse(text, strlen(text), "fuzz", &p, &eb) == 0);
    struct ox_cm_config cfg;
    ox_assert(ox_cm_config_load(p, &cfg, &eb) == 0);
    cfg.port = 0; /* an ephemeral loopback port nobody uses: input comes by socketpair */
    if (ox_cm_start(&cfg, &the_cm, &eb) != 0) {
        fprintf(stderr, "fuzz_cm_http: cannot start the CM: %s\n", eb.msg);
        abort();
    }
    ox_cm_config_free(&cfg);
    /* The props stay referenced by the config copy inside the CM. */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (the_cm == NULL)
        cm_boot();
    ox_buf resp = OX_BUF_INIT;
    int status = http_inject(cm_http_port(the_cm), data, size, 500, 500, &resp);
    /* MHD may close a request line it cannot parse without answering (0). */
    if (status <= 0) {
        ox_buf_free(&resp);
        return 0;
    }
    ox_assert(status != 500); /* "handler gave no response" */
    size_t blen = 0;
    const char *body = http_inject_body(&resp, &blen);
    ox_assert(body != NULL);
    ox_assert(memmem(body, blen, FUZZ_TOKEN, strlen(FUZZ_TOKEN)) == NULL ||
              memmem(data, size, FUZZ_TOKEN, strlen(FUZZ_TOKEN)) != NULL);
    /* A HEAD answer has the headers of the GET answer and no body. */
    int head = size >= 5 && memcmp(data, "HEAD ", 5) == 0;
    if (!head && memmem(resp.data, resp.len, "application/json", 16) != NULL) {
        json_error_t je;
        json_t *j = json_loadb(body, blen, 0, &je);
        ox_assert(j != NULL);
        json_t *ok = json_object_get(j, "isSuccess");
        ox_assert(json_is_boolean(ok));
        if (json_is_false(ok))
            ox_assert(json_is_string(json_object_get(j, "errMsg")));
        json_decref(j);
    }
    ox_buf_free(&resp);
    return 0;
}
