/*
 * fuzz_client_detail.c - the bytes liboxbow-client reads in reconnect mode
 * besides the stream: a CM's crawler/detail answer (anything posing as a
 * CM) and the store/CM URLs a user gives. The first input byte picks which.
 */
#include <stdint.h>
#include <string.h>

#include "../../src/client/ox_client_ep.c"
#include "ox_assert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int url = data[0] & 1;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    char host[256], err[300];
    uint16_t port = 0;
    memset(host, 0, sizeof host);
    err[0] = '\0';
    int rc = url ? oxc_ep_parse_url(s, n, host, sizeof host, &port, err, sizeof err)
                 : oxc_ep_from_detail(s, n, host, sizeof host, &port, err, sizeof err);
    if (rc == 0) {
        ox_assert(host[0] != '\0' && strlen(host) < sizeof host && port != 0);
    } else {
        ox_assert(rc == -1 && err[0] != '\0');
    }
    return 0;
}
