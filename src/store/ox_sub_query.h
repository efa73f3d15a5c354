/*
 * ox_sub_query.h - the query of GET /v1/subscribe (docs/protocol.md).
 *
 *     checkpoint=C | timestamp=T | msgId=N | from=earliest|latest
 *     &filter=db.t,db2.*  &format=json|binary
 *
 * At most one start parameter (none = from=latest). A checkpoint with a
 * msgId resumes right after that record; without msgId but with fileIdx and
 * offset it starts at the first transaction at or after that source
 * position; with only a timestamp, at the first transaction at or after it.
 * Unknown or repeated parameters, malformed values and conflicting starts
 * are OX_EINVAL with a reason fit for an HTTP 400 body. Values arrive already
 * percent-decoded (by the HTTP server); ox_sub_query_parse_string decodes a
 * raw query string itself (tests, fuzzing). Nothing here logs.
 */
#ifndef OX_SUB_QUERY_H
#define OX_SUB_QUERY_H

#include "ox_err.h"
#include "ox_filter.h"
#include "ox_log.h"

enum ox_sub_format {
    OX_SUB_JSON = 0,
    OX_SUB_BINARY = 1,
};

typedef struct ox_sub_query {
    ox_log_start start;
    int format;              /* enum ox_sub_format */
    ox_filter *filter;       /* NULL = everything; owned */
    unsigned seen;           /* internal: parameters given so far */
    const char *start_param; /* name of the start parameter given, or NULL */
} ox_sub_query;

/* Starts an empty query (from latest, json, no filter). */
void ox_sub_query_init(ox_sub_query *q);

/* Adds one decoded parameter. OX_EINVAL with a reason in eb. */
int ox_sub_query_add(ox_sub_query *q, const char *key, const char *value, ox_errbuf *eb);

/* Parses "a=b&c=d" with percent- and '+'-decoding, via ox_sub_query_add. */
int ox_sub_query_parse_string(ox_sub_query *q, const char *qs, ox_errbuf *eb);

/* Frees the filter; the query may be re-initialised after. */
void ox_sub_query_free(ox_sub_query *q);

#endif
