/* fuzz_mysql_stream.c - what the live MySQL source parses itself from the
 * server and the user: event headers and ROTATE events of the dump stream
 * (with and without checksums), and MySQL GTID set text. The first byte
 * selects the parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ox_assert.h"
#include "ox_binlog_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    if (data[0] & 1) {
        char *s = malloc(n + 1);
        if (!s)
            return 0;
        memcpy(s, p, n);
        s[n] = '\0';
        ox_buf b = OX_BUF_INIT;
        ox_errbuf eb;
        int rc = ox_mysql_gtid_set_encode(s, &b, &eb);
        ox_assert(rc == 0 || (rc == OX_EINVAL && b.len == 0));
        if (rc == 0)
            ox_assert(b.len >= 8);
        ox_buf_free(&b);
        free(s);
        return 0;
    }
    ox_ev_header h;
    if (ox_ev_header_parse(p, n, &h) == 0) {
        char name[256];
        uint64_t pos;
        for (int crc = 0; crc < 2; crc++)
            if (ox_ev_rotate_parse(p, n, crc, name, sizeof name, &pos) == 0)
                ox_assert(strlen(name) > 0 && strlen(name) < sizeof name);
    }
    return 0;
}
