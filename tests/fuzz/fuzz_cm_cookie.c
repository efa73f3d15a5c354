/* fuzz_cm_cookie.c - the console's Cookie header check (cm_ops_cookie_match)
 * and the status-number scan on outside text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cm_ops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    int ok = cm_ops_cookie_match(s, "0123456789abcdef0123456789abcdef0123456789abcdef");
    /* Only the exact value matches. */
    if (ok && strstr(s, "oxbow_session=0123456789abcdef0123456789abcdef0123456789abcdef") == NULL)
        abort();
    (void)cm_ops_status_num(s, "delay");
    free(s);
    return 0;
}
