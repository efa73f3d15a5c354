/*
 * fuzz_store_http.c - whole HTTP requests to the store's server: MHD's
 * parsing, then our route table, bearer-token check, GET /v1/status and
 * GET /v1/subscribe with its query (start position, filters, format), against
 * a store context whose change log holds a few committed transactions. No
 * capture thread and no source: the request path is what is fuzzed. Requests
 * reach MHD through a socketpair (http_inject.h); a subscription is read for
 * a short while and then closed by the client, as a real subscriber may.
 *
 * Invariants: JSON error answers parse and
 * carry isSuccess=false with an errMsg; the token is never echoed; a
 * subscription that starts (200) begins with its format's first bytes.
 */
#include <jansson.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http_inject.h"
#include "ox_assert.h"
#include "ox_payload.h"
#include "ox_store_priv.h"

#define FUZZ_TOKEN "fuzz-store-token-0123456789"

static struct ox_store the_st;
static volatile sig_atomic_t stop_flag;
static int booted;

static void fill_log(ox_log *log)
{
    ox_errbuf eb;
    for (int tx = 0; tx < 4; tx++) {
        ox_log_srcpos src;
        memset(&src, 0, sizeof src);
        src.file_idx = 7;
        src.offset = 1000 + (uint64_t)tx * 100;
        src.timestamp = 1700000000 + tx;
        int n = snprintf((char *)src.opaque, sizeof src.opaque, "0-1-%d", tx + 1);
        src.opaque_len = (uint16_t)n;
        ox_buf b = OX_BUF_INIT;
        const char *tables[] = {"orders", "users", "orders", "audit"};
        ox_record_put_header(&b, tx == 3 ? "other" : "shop", tables[tx], OX_OP_INSERT);
        char json[128];
        snprintf(json, sizeof json, "{\"op\":\"insert\",\"after\":{\"id\":%d,\"v\":\"x\\u00e9\"}}",
                 tx);
        ox_buf_puts(&b, json);
        uint64_t id;
        ox_assert(ox_log_append(log, &src, b.data, (uint32_t)b.len, 0, &id, &eb) == 0);
        ox_buf_reset(&b);
        ox_record_put_header(&b, NULL, NULL, OX_OP_COMMIT);
        ox_buf_puts(&b, "{\"op\":\"commit\"}");
        src.offset += 50;
        ox_assert(ox_log_append(log, &src, b.data, (uint32_t)b.len, OX_LOG_COMMIT, &id, &eb) == 0);
        ox_buf_free(&b);
    }
}

static void store_boot(void)
{
    const char *dir = http_inject_tmpdir("store");
    char path[512], text[1024];
    snprintf(path, sizeof path, "%s/token", dir);
    FILE *f = fopen(path, "w");
    ox_assert(f != NULL);
    fputs(FUZZ_TOKEN "\n", f);
    fclose(f);
    snprintf(text, sizeof text,
             "store.name=fuzz-0.0.0.0-1\nstore.dir=%s\nstore.port=1\n"
             "store.auth.token.file=%s\nstore.max_subscribers=8\n",
             dir, path);
    ox_props *p = NULL;
    ox_errbuf eb;
    ox_assert(ox_props_parse(text, strlen(text), "fuzz", &p, &eb) == 0);
    ox_store_config *cfg = NULL;
    if (ox_store_config_from_props(p, &cfg, &eb) != 0) {
        fprintf(stderr, "fuzz_store_http: config: %s\n", eb.msg);
        abort();
    }
    ox_props_free(p);
    cfg->port = 0; /* ephemeral and unused: input comes by socketpair */
    the_st.cfg = cfg;
    the_st.stop = &stop_flag;
    pthread_mutex_init(&the_st.mu, NULL);
    the_st.src_time_ms = ox_time_wall_ms();
    snprintf(path, sizeof path, "%s/store.log", dir);
    ox_assert(ox_slog_open(path, OX_LL_ERROR, 0, &the_st.slog, &eb) == 0);
    snprintf(path, sizeof path, "%s/log", dir);
    ox_log_options opt;
    ox_log_options_default(&opt);
    opt.fsync_policy = OX_LOG_FSYNC_NONE;
    ox_assert(ox_log_open(path, &opt, &the_st.log, NULL, &eb) == 0);
    fill_log(the_st.log);
    if (ox_store_http_start(&the_st, &eb) != 0) {
        fprintf(stderr, "fuzz_store_http: %s\n", eb.msg);
        abort();
    }
    booted = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!booted)
        store_boot();
    ox_buf resp = OX_BUF_INIT;
    /* A subscription never ends by itself: read its backlog, stop when idle. */
    int status = http_inject(http_inject_mhd_port(the_st.http), data, size, 2000, 5, &resp);
    /* MHD may close a request line it cannot parse without answering (0). */
    if (status <= 0) {
        ox_buf_free(&resp);
        return 0;
    }
    size_t blen = 0;
    const char *body = http_inject_body(&resp, &blen);
    ox_assert(body != NULL);
    ox_assert(memmem(body, blen, FUZZ_TOKEN, strlen(FUZZ_TOKEN)) == NULL ||
              memmem(data, size, FUZZ_TOKEN, strlen(FUZZ_TOKEN)) != NULL);
    /* A HEAD answer has the headers of the GET answer and no body. */
    int head = size >= 5 && memcmp(data, "HEAD ", 5) == 0;
    if (!head && status != 200 && memmem(resp.data, resp.len, "application/json", 16) != NULL) {
        json_error_t je;
        json_t *j = json_loadb(body, blen, 0, &je);
        ox_assert(j != NULL);
        ox_assert(json_is_false(json_object_get(j, "isSuccess")));
        ox_assert(json_is_string(json_object_get(j, "errMsg")));
        json_decref(j);
    }
    ox_buf_free(&resp);
    return 0;
}
