/* ox_checkpoint.c - parse and format the seed's checkpoint strings. */
#include "ox_checkpoint.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ox_json_out.h"

static const char *const field_names[6] = {"dbIp",   "dbPort",    "fileIdx",
                                           "offset", "timestamp", "msgId"};

int ox_ipv4_parse(const char *s, size_t len, uint32_t *out)
{
    uint32_t ip = 0;
    size_t i = 0;
    for (int octet = 0; octet < 4; octet++) {
        unsigned v = 0;
        size_t digits = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            v = v * 10 + (unsigned)(s[i] - '0');
            if (++digits > 3 || v > 255)
                return OX_EINVAL;
            i++;
        }
        if (digits == 0)
            return OX_EINVAL;
        ip = (ip << 8) | v;
        if (octet < 3) {
            if (i >= len || s[i] != '.')
                return OX_EINVAL;
            i++;
        }
    }
    if (i != len)
        return OX_EINVAL;
    *out = ip;
    return 0;
}

void ox_ipv4_format(uint32_t ip, char buf[16])
{
    snprintf(buf, 16, "%u.%u.%u.%u", (ip >> 24) & 255u, (ip >> 16) & 255u, (ip >> 8) & 255u,
             ip & 255u);
}

/* Parses an unsigned decimal of at most `max`; rejects signs and overflow. */
static int parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0)
        return OX_EINVAL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return OX_EINVAL;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (max - d) / 10)
            return OX_ERANGE;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int ox_checkpoint_parse(const char *s, ox_checkpoint *out, ox_errbuf *eb)
{
    ox_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    const char *p = s;
    for (int f = 0; f < 6; f++) {
        const char *end = strchr(p, ':');
        if (f < 5 && end == NULL)
            return ox_errf(eb, OX_EINVAL,
                           "checkpoint \"%.100s\": expected 6 fields "
                           "dbIp:dbPort:fileIdx:offset:timestamp:msgId, found %d",
                           s, f + 1);
        if (f == 5) {
            if (end != NULL)
                return ox_errf(eb, OX_EINVAL, "checkpoint \"%.100s\": more than 6 fields", s);
            end = p + strlen(p);
        }
        size_t len = (size_t)(end - p);
        if (len > 0) {
            uint64_t v = 0;
            int rc = 0;
            switch (f) {
            case 0:
                rc = ox_ipv4_parse(p, len, &cp.db_ip);
                break;
            case 1:
                rc = parse_u64(p, len, 65535, &v);
                cp.db_port = (uint16_t)v;
                break;
            case 2:
                rc = parse_u64(p, len, UINT64_MAX, &cp.file_idx);
                break;
            case 3:
                rc = parse_u64(p, len, UINT64_MAX, &cp.offset);
                break;
            case 4:
                rc = parse_u64(p, len, INT64_MAX, &v);
                cp.timestamp = (int64_t)v;
                break;
            default:
                rc = parse_u64(p, len, UINT64_MAX, &cp.msg_id);
                break;
            }
            if (rc != 0)
                return ox_errf(eb, OX_EINVAL,
                               "checkpoint \"%.100s\": field %d (%s) \"%.*s\" is not %s", s, f + 1,
                               field_names[f], (int)(len > 40 ? 40 : len), p,
                               f == 0   ? "a dotted IPv4 address"
                               : f == 1 ? "a port number 0-65535"
                                        : "an unsigned decimal number in range");
            cp.present |= 1u << f;
        }
        p = end + 1;
    }
    *out = cp;
    return 0;
}

/* Writes the text and its NUL at p (OX_CHECKPOINT_STRLEN bytes); returns
 * its length. Per record on the subscriber path: digits by hand, no
 * printf. The widest text (105 bytes) and ox_fmt_u64's 20-byte stores fit. */
static size_t format_into(const ox_checkpoint *cp, char *p)
{
    char *start = p;
    unsigned has = cp->present;
    if (has & OX_CP_DBIP)
        for (int i = 3; i >= 0; i--) {
            p += ox_fmt_u64(p, (cp->db_ip >> (8 * i)) & 255u);
            *p++ = i ? '.' : ':';
        }
    else
        *p++ = ':';
    if (has & OX_CP_DBPORT)
        p += ox_fmt_u64(p, cp->db_port);
    *p++ = ':';
    if (has & OX_CP_FILEIDX)
        p += ox_fmt_u64(p, cp->file_idx);
    *p++ = ':';
    if (has & OX_CP_OFFSET)
        p += ox_fmt_u64(p, cp->offset);
    *p++ = ':';
    if (has & OX_CP_TIMESTAMP)
        p += ox_fmt_i64(p, cp->timestamp);
    *p++ = ':';
    if (has & OX_CP_MSGID)
        p += ox_fmt_u64(p, cp->msg_id);
    *p = '\0';
    return (size_t)(p - start);
}

/* A buffer below OX_CHECKPOINT_STRLEN gets a cut, terminated text. */
static size_t __attribute__((noinline)) format_cut(const ox_checkpoint *cp, char *buf, size_t cap)
{
    char tmp[OX_CHECKPOINT_STRLEN];
    size_t n = format_into(cp, tmp);
    if (cap == 0)
        return 0;
    n = n < cap ? n : cap - 1;
    memcpy(buf, tmp, n);
    buf[n] = '\0';
    return n;
}

size_t ox_checkpoint_format(const ox_checkpoint *cp, char *buf, size_t cap)
{
    return cap >= OX_CHECKPOINT_STRLEN ? format_into(cp, buf) : format_cut(cp, buf, cap);
}
