/* fuzz_subscribe_query.c - GET /v1/subscribe query strings from subscribers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ox_assert.h"
#include "ox_sub_query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    ox_sub_query q;
    ox_errbuf eb;
    ox_sub_query_init(&q);
    if (ox_sub_query_parse_string(&q, s, &eb) == 0) {
        ox_assert(q.start.kind >= OX_LOG_FROM_MSGID && q.start.kind <= OX_LOG_FROM_LATEST);
        if (q.filter != NULL)
            (void)ox_filter_match(q.filter, "db", 2, "table", 5);
    } else {
        ox_assert(eb.msg[0] != '\0');
    }
    ox_sub_query_free(&q);
    free(s);
    return 0;
}
