/* ox_sub_query.c - subscribe query parameters; see ox_sub_query.h. */
#include "ox_sub_query.h"

#include <stdlib.h>
#include <string.h>

#include "ox_alloc.h"
#include "ox_assert.h"
#include "ox_checkpoint.h"
#include "ox_url.h"

enum {
    P_CHECKPOINT = 1u << 0,
    P_TIMESTAMP = 1u << 1,
    P_MSGID = 1u << 2,
    P_FROM = 1u << 3,
    P_FILTER = 1u << 4,
    P_FORMAT = 1u << 5,
};
#define P_STARTS (P_CHECKPOINT | P_TIMESTAMP | P_MSGID | P_FROM)

void ox_sub_query_init(ox_sub_query *q)
{
    memset(q, 0, sizeof *q);
    q->start.kind = OX_LOG_FROM_LATEST;
    q->format = OX_SUB_JSON;
}

void ox_sub_query_free(ox_sub_query *q)
{
    ox_filter_free(q->filter);
    q->filter = NULL;
}

static int parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (*s == '\0' || strlen(s) > 20)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int ox_sub_query_add(ox_sub_query *q, const char *key, const char *value, ox_errbuf *eb)
{
    static const struct {
        const char *name;
        unsigned bit;
    } params[] = {{"checkpoint", P_CHECKPOINT}, {"timestamp", P_TIMESTAMP},
                  {"msgId", P_MSGID},           {"from", P_FROM},
                  {"filter", P_FILTER},         {"format", P_FORMAT}};
    unsigned bit = 0;
    const char *name = NULL;
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
        if (strcmp(key, params[i].name) == 0) {
            bit = params[i].bit;
            name = params[i].name;
        }
    if (bit == 0)
        return ox_errf(eb, OX_EINVAL,
                       "unknown parameter \"%.60s\" (expected checkpoint, timestamp, msgId, from, "
                       "filter, format)",
                       key);
    if (q->seen & bit)
        return ox_errf(eb, OX_EINVAL, "parameter \"%s\" given twice", name);
    if ((bit & P_STARTS) && (q->seen & P_STARTS))
        return ox_errf(eb, OX_EINVAL,
                       "give only one of checkpoint, timestamp, msgId and from (got %s and %s)",
                       q->start_param, name);
    q->seen |= bit;
    if (bit & P_STARTS)
        q->start_param = name;
    uint64_t v;
    switch (bit) {
    case P_CHECKPOINT: {
        ox_checkpoint cp;
        ox_errbuf cb;
        if (ox_checkpoint_parse(value, &cp, &cb) != 0)
            return ox_errf(eb, OX_EINVAL, "bad checkpoint: %s", cb.msg);
        if (cp.present & OX_CP_MSGID) {
            if (cp.msg_id == UINT64_MAX)
                return ox_errf(eb, OX_EINVAL, "bad checkpoint: msgId out of range");
            q->start.kind = OX_LOG_FROM_MSGID;
            q->start.msg_id = cp.msg_id + 1;
        } else if ((cp.present & (OX_CP_FILEIDX | OX_CP_OFFSET)) ==
                   (OX_CP_FILEIDX | OX_CP_OFFSET)) {
            /* A record's checkpoint offset is where the record's event starts,
             * or for a COMMIT the position after its transaction. Starting at
             * the transaction of the first record beyond that offset therefore
             * resumes after a committed transaction, and re-sends a partly
             * received one whole. */
            if (cp.offset == UINT64_MAX)
                return ox_errf(eb, OX_EINVAL, "bad checkpoint: offset out of range");
            q->start.kind = OX_LOG_FROM_SRCPOS;
            q->start.file_idx = cp.file_idx;
            q->start.offset = cp.offset + 1;
        } else if (cp.present & OX_CP_TIMESTAMP) {
            q->start.kind = OX_LOG_FROM_TIMESTAMP;
            q->start.timestamp = cp.timestamp;
        } else {
            return ox_errf(eb, OX_EINVAL,
                           "bad checkpoint \"%.100s\": needs a msgId, fileIdx and offset, or a "
                           "timestamp",
                           value);
        }
        return 0;
    }
    case P_TIMESTAMP:
        if (parse_u64(value, &v) != 0 || v > (uint64_t)INT64_MAX)
            return ox_errf(eb, OX_EINVAL,
                           "bad timestamp \"%.60s\": expected seconds since the epoch", value);
        q->start.kind = OX_LOG_FROM_TIMESTAMP;
        q->start.timestamp = (int64_t)v;
        return 0;
    case P_MSGID:
        if (parse_u64(value, &v) != 0 || v == 0)
            return ox_errf(eb, OX_EINVAL, "bad msgId \"%.60s\": expected an integer >= 1", value);
        q->start.kind = OX_LOG_FROM_MSGID;
        q->start.msg_id = v;
        return 0;
    case P_FROM:
        if (strcmp(value, "earliest") == 0)
            q->start.kind = OX_LOG_FROM_EARLIEST;
        else if (strcmp(value, "latest") == 0)
            q->start.kind = OX_LOG_FROM_LATEST;
        else
            return ox_errf(eb, OX_EINVAL, "bad from \"%.60s\": expected earliest or latest", value);
        return 0;
    case P_FILTER: {
        ox_errbuf fb;
        ox_filter *f = NULL;
        if (ox_filter_parse(value, &f, &fb) != 0)
            return ox_errf(eb, OX_EINVAL, "bad filter: %s", fb.msg);
        if (ox_filter_empty(f))
            ox_filter_free(f);
        else
            q->filter = f;
        return 0;
    }
    default: /* P_FORMAT */
        if (strcmp(value, "json") == 0)
            q->format = OX_SUB_JSON;
        else if (strcmp(value, "binary") == 0)
            q->format = OX_SUB_BINARY;
        else
            return ox_errf(eb, OX_EINVAL, "bad format \"%.60s\": expected json or binary", value);
        return 0;
    }
}

/* Decodes [s, e) into a new NUL-terminated string; NULL on a bad escape or NUL. */
static char *decode(const char *s, const char *e)
{
    char *out = NULL;
    if (ox_url_decode(s, (size_t)(e - s), (size_t)(e - s), &out, NULL) == OX_ENOMEM)
        ox_assert(!"out of memory decoding a query");
    return out;
}

int ox_sub_query_parse_string(ox_sub_query *q, const char *qs, ox_errbuf *eb)
{
    const char *s = qs;
    while (*s) {
        const char *amp = strchr(s, '&');
        const char *e = amp ? amp : s + strlen(s);
        if (e > s) {
            const char *eq = memchr(s, '=', (size_t)(e - s));
            char *k = decode(s, eq ? eq : e);
            char *v = eq ? decode(eq + 1, e) : ox_xstrdup("");
            int rc = 0;
            if (k == NULL || v == NULL)
                rc = ox_errf(eb, OX_EINVAL, "bad percent-escape in query at offset %zu",
                             (size_t)(s - qs));
            else
                rc = ox_sub_query_add(q, k, v, eb);
            free(k);
            free(v);
            if (rc != 0)
                return rc;
        }
        s = amp ? amp + 1 : e;
    }
    return 0;
}
