/* fuzz_checkpoint.c - checkpoint strings from users and the API. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ox_assert.h"
#include "ox_checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    ox_checkpoint cp;
    ox_errbuf eb;
    if (ox_checkpoint_parse(s, &cp, &eb) == 0) {
        /* Whatever parses must format back to something that parses the same. */
        char buf[OX_CHECKPOINT_STRLEN];
        ox_checkpoint_format(&cp, buf, sizeof buf);
        ox_checkpoint again;
        ox_assert(ox_checkpoint_parse(buf, &again, &eb) == 0);
        ox_assert(cp.present == again.present && cp.db_ip == again.db_ip &&
                  cp.db_port == again.db_port && cp.file_idx == again.file_idx &&
                  cp.offset == again.offset && cp.timestamp == again.timestamp &&
                  cp.msg_id == again.msg_id);
    }
    free(s);
    return 0;
}
