/*
 * ox_binlog_fde.c - FORMAT_DESCRIPTION_EVENT (type 15).
 *
 * Body: binlog_version u16 | server_version char[50] | create_timestamp u32 |
 * header_length u8 (19) | post_header_length[N] u8, one per event type
 * starting at type 1 | and, for servers that know checksums (MySQL >= 5.6.1,
 * MariaDB >= 5.3), checksum_alg u8 (0 off, 1 CRC32) followed by 4 bytes
 * that hold the CRC32 of the event when alg is 1 (and filler otherwise).
 * The FORMAT_DESCRIPTION decides for itself whether it carries a checksum;
 * every later event of the file carries one iff checksum_alg is 1. Its own
 * body always starts at byte 19; the bodies of later events start at
 * header_length.
 *
 * Binlogs before v4 start with a START_EVENT_V3 (type 1) instead:
 * binlog_version u16 | server_version char[50] | create_timestamp u32 after
 * the header. v3 (MySQL 4.0/4.1) has the 19-byte header and fixed
 * post-header lengths (QUERY 11: no status variables); it only ever holds
 * statements, and is decoded (as is v2, MySQL 4.0.0-4.0.1, same layout). v1
 * (MySQL 3.23) has a 13-byte header and is refused by name.
 */
#include "ox_binlog_int.h"

#include <stdio.h>
#include <string.h>
#include <zlib.h>

bool ox_bl_fde_has_alg(const char *version)
{
    unsigned maj = 0, min = 0, pat = 0;
    if (sscanf(version, "%u.%u.%u", &maj, &min, &pat) < 2)
        return false;
    unsigned v = maj * 10000 + min * 100 + pat;
    if (strstr(version, "MariaDB") || strstr(version, "-maria"))
        return v >= 50300;
    return v >= 50601;
}

int ox_bl_fde(ox_binlog_decoder *d, const uint8_t *ev, size_t len, ox_errbuf *eb)
{
    const uint8_t *b = ev + OX_BL_HEADER_LEN;
    size_t n = len - OX_BL_HEADER_LEN;
    if (n < 57)
        return ox_bl_err(d, eb, OX_ETRUNC, "FORMAT_DESCRIPTION event truncated (%zu bytes)", n);
    unsigned binlog_version = (unsigned)le_n(b, 2);
    if (binlog_version != 4)
        return ox_bl_err(d, eb, OX_EUNSUPP, "binlog format version %u (only v4 is supported)",
                         binlog_version);
    char ver[51];
    memcpy(ver, b + 2, 50);
    ver[50] = '\0';
    /* Some servers (Google's MySQL 5.1 patches, as in MariaDB's mdev-4645
     * test files) declare a longer common header, with their own fields
     * after the standard 19 bytes: event bodies start after it. */
    if (b[56] < OX_BL_HEADER_LEN)
        return ox_bl_err(d, eb, OX_ECORRUPT, "event header length %u (less than 19)", b[56]);
    size_t nposts = n - 57;
    uint8_t alg = 0;
    if (ox_bl_fde_has_alg(ver)) {
        if (nposts < 5)
            return ox_bl_err(d, eb, OX_ETRUNC, "FORMAT_DESCRIPTION without checksum trailer");
        alg = b[n - 5];
        nposts -= 5;
        if (alg == 1 && d->verify) {
            uint32_t want = (uint32_t)le_n(ev + len - 4, 4);
            uint32_t got = (uint32_t)crc32(0, ev, (uInt)(len - 4));
            if (want != got) {
                /* The server clears LOG_EVENT_BINLOG_IN_USE_F (flags bit 0)
                 * in place when it closes the file, without updating the
                 * CRC: check the other value of that bit too. */
                uint8_t hdr[OX_BL_HEADER_LEN];
                memcpy(hdr, ev, sizeof hdr);
                hdr[17] ^= 1;
                got = (uint32_t)crc32(0, hdr, sizeof hdr);
                got =
                    (uint32_t)crc32(got, ev + OX_BL_HEADER_LEN, (uInt)(len - 4 - OX_BL_HEADER_LEN));
            }
            if (want != got)
                return ox_bl_err(d, eb, OX_ECORRUPT, "bad CRC32 in FORMAT_DESCRIPTION event");
        }
        if (alg != 0 && alg != 1 && alg != 0xff)
            return ox_bl_err(d, eb, OX_EUNSUPP, "unknown checksum algorithm %u", alg);
    }
    memset(d->post_len, 0, sizeof d->post_len);
    memcpy(d->post_len, b + 57, nposts < sizeof d->post_len ? nposts : sizeof d->post_len);
    d->checksum = alg == 1;
    d->hdr_len = b[56];
    memcpy(d->server_version, ver, sizeof d->server_version);
    d->mariadb = strstr(ver, "MariaDB") != NULL || strstr(ver, "-maria") != NULL;
    d->have_fde = true;
    /* A new FORMAT_DESCRIPTION starts a new file or server session: a
     * transaction cut short by a crash is not continued across it. */
    ox_bl_tables_clear(d);
    d->have_annot = false;
    return 0;
}

int ox_bl_start_v3(ox_binlog_decoder *d, const uint8_t *ev, size_t len, ox_errbuf *eb)
{
    /* The version sits right after the header: byte 19 in v2/v3, 13 in v1. */
    unsigned v3 = len >= OX_BL_HEADER_LEN + 2 ? (unsigned)le_n(ev + OX_BL_HEADER_LEN, 2) : 0;
    unsigned v1 = len >= 13 + 2 ? (unsigned)le_n(ev + 13, 2) : 0;
    if (v3 != 3 && v3 != 2) {
        if (v1 == 1)
            return ox_bl_err(
                d, eb, OX_EUNSUPP,
                "binlog format v1 (MySQL 3.23, 13-byte event headers) is not supported");
        return ox_bl_err(d, eb, OX_EUNSUPP, "START_EVENT_V3 of unknown binlog version %u", v3);
    }
    if (len < OX_BL_HEADER_LEN + 56)
        return ox_bl_err(d, eb, OX_ETRUNC, "START_EVENT_V3 truncated (%zu bytes)", len);
    /* The post-header lengths every v3 server uses (MySQL's defaults for
     * binlog v3): START_V3 56, QUERY 11, ROTATE 8, LOAD 18, CREATE_FILE,
     * APPEND_BLOCK, EXEC_LOAD, DELETE_FILE 4, NEW_LOAD 18. */
    static const uint8_t v3_post[] = {56, 11, 0, 8, 0, 18, 0, 4, 4, 4, 4, 18, 0, 0};
    memset(d->post_len, 0, sizeof d->post_len);
    memcpy(d->post_len, v3_post, sizeof v3_post);
    memcpy(d->server_version, ev + OX_BL_HEADER_LEN + 2, 50);
    d->server_version[50] = '\0';
    d->checksum = false;
    d->hdr_len = OX_BL_HEADER_LEN;
    d->mariadb = false;
    d->have_fde = true;
    ox_bl_tables_clear(d);
    d->have_annot = false;
    return 0;
}
