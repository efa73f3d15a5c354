/* ox_store_ckpt.c - record checkpoint strings; see ox_store_ckpt.h. */
#include "ox_store_ckpt.h"

#include "ox_json_out.h"

size_t ox_store_ckpt_format(uint32_t ip, uint16_t port, const ox_log_srcpos *src, uint64_t msg_id,
                            char *buf)
{
    char *p = buf;
    for (int i = 3; i >= 0; i--) {
        p += ox_fmt_u64(p, (ip >> (8 * i)) & 255u);
        *p++ = i ? '.' : ':';
    }
    p += ox_fmt_u64(p, port);
    *p++ = ':';
    p += ox_fmt_u64(p, src->file_idx);
    *p++ = ':';
    p += ox_fmt_u64(p, src->offset);
    *p++ = ':';
    p += ox_fmt_i64(p, src->timestamp);
    *p++ = ':';
    p += ox_fmt_u64(p, msg_id);
    *p = '\0';
    return (size_t)(p - buf);
}
