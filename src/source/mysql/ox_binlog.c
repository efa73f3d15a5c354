/* ox_binlog.c - placeholder so the API links while the decoder is written. */
#include "ox_binlog.h"

#include <stdlib.h>
#include <string.h>

struct ox_binlog_decoder {
    int unused;
};

int ox_binlog_decoder_create(ox_binlog_decoder **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : OX_ENOMEM;
}

void ox_binlog_decoder_free(ox_binlog_decoder *d)
{
    free(d);
}

void ox_binlog_decoder_set_columns_fn(ox_binlog_decoder *d, ox_binlog_columns_fn fn, void *arg)
{
}

void ox_binlog_decoder_set_file(ox_binlog_decoder *d, const char *name)
{
}

void ox_binlog_decoder_set_verify(ox_binlog_decoder *d, bool verify)
{
}

int ox_binlog_decoder_feed(ox_binlog_decoder *d, const uint8_t *ev, size_t len, uint64_t pos,
                           ox_change_fn fn, void *arg, ox_errbuf *eb)
{
    return ox_errf(eb, OX_EUNSUPP, "binlog decoder not implemented yet");
}

int ox_binlog_decode_file(ox_binlog_decoder *d, const char *path, ox_change_fn fn, void *arg,
                          ox_errbuf *eb)
{
    return ox_errf(eb, OX_EUNSUPP, "binlog decoder not implemented yet");
}

void ox_binlog_decoder_reset(ox_binlog_decoder *d)
{
}

void ox_binlog_decoder_stats(const ox_binlog_decoder *d, ox_binlog_stats *out)
{
    memset(out, 0, sizeof *out);
}

bool ox_binlog_decoder_has_checksum(const ox_binlog_decoder *d)
{
    return false;
}
