/* ox_mysql_dump.c - dump commands, GTID set encoding and packet reads. */
#include "ox_mysql_dump.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * libmariadb's private <ma_pvio.h>, pinned to the 3.3 series (issue 11). Why:
 * reading a packet header, libmariadb reads ahead up to 16 KiB into
 * pvio->cache, bytes that poll() on the socket cannot see. Waiting for the
 * next event with a bound (ox_mysql_dump_read) must know whether such bytes
 * are there, or an event that has already arrived waits for the next bytes
 * on the wire (up to a heartbeat later). libmariadb 3.3's public API cannot
 * say: mysql_net_read_packet and mariadb_rpl_fetch block, and
 * MYSQL_OPT_READ_TIMEOUT ends the connection when it fires. So this file
 * reads the three cache fields of MARIADB_PVIO and nothing else private
 * (TLS is asked with the public mysql_get_ssl_cipher). The build fails on
 * another series or layout (below), and ox_mysql_dump_session refuses a
 * run-time library of another series (ox_mysql_client_check). Moving to a
 * new series: check the fields in its ma_pvio.h and ma_pvio.c's
 * ma_pvio_cache_read, then update the pin and docs/architecture.md.
 */
#include <ma_pvio.h>
#include <mariadb_version.h>

#define OX_MARIADB_SERIES "3.3."
#if MARIADB_PACKAGE_VERSION_ID < 30300 || MARIADB_PACKAGE_VERSION_ID >= 30400
#error "ox_mysql_dump.c reads MARIADB_PVIO's read-ahead cache, checked for libmariadb 3.3 only"
#endif
_Static_assert(offsetof(MARIADB_PVIO, cache) == 8 && offsetof(MARIADB_PVIO, cache_pos) == 16 &&
                   offsetof(MARIADB_PVIO, cache_size) == 24,
               "MARIADB_PVIO's read-ahead cache moved: check ma_pvio.h and update the pin");

#include "ox_mysql_conn.h"
#include "ox_url.h"

#define COM_BINLOG_DUMP_GTID_CODE 0x1e

static void put_u16(ox_buf *b, uint16_t v)
{
    uint8_t p[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    ox_buf_put(b, p, 2);
}

static void put_u32(ox_buf *b, uint32_t v)
{
    uint8_t p[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    ox_buf_put(b, p, 4);
}

static void put_u64(ox_buf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

static void set_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Sends one command packet; skip_check = 1: the reply is read later. */
static int send_cmd(MYSQL *m, const ox_source_config *cfg, int cmd, const ox_buf *b,
                    bool read_reply, const char *what, ox_errbuf *eb)
{
    if (m->methods->db_command(m, (enum enum_server_command)cmd, (const char *)b->data, b->len,
                               read_reply ? 0 : 1, NULL) != 0)
        return ox_mysql_error(m, cfg, what, eb);
    return 0;
}

int ox_mysql_client_check(ox_errbuf *eb)
{
    const char *have = mysql_get_client_info();
    if (have == NULL || strncmp(have, OX_MARIADB_SERIES, strlen(OX_MARIADB_SERIES)) != 0)
        return ox_errf(eb, OX_ECONFIG,
                       "libmariadb %s is loaded but oxbow was built for %s (the binlog dump "
                       "reads its read-ahead buffer): rebuild oxbow against this libmariadb",
                       have ? have : "(unknown)", MARIADB_PACKAGE_VERSION);
    return 0;
}

/* Bytes libmariadb has read from the socket but not yet returned (pinned
 * private fields, see the top of this file). */
static bool read_ahead(MYSQL *m)
{
    MARIADB_PVIO *pv = m->net.pvio;
    return pv && pv->cache && pv->cache_pos < pv->cache + pv->cache_size;
}

int ox_mysql_dump_session(MYSQL *m, const ox_source_config *cfg, bool mariadb, int heartbeat_ms,
                          ox_errbuf *eb)
{
    int rc;
    if ((rc = ox_mysql_client_check(eb)) != 0)
        return rc;
    /* Tell the server we understand checksums: without this a server with
     * binlog_checksum=CRC32 refuses to send to an old-style replica. */
    if ((rc = ox_mysql_exec(m, cfg, "SET @master_binlog_checksum = @@global.binlog_checksum",
                            eb)) != 0)
        return rc;
    if (mariadb) {
        /* Capability 4 (MARIA_SLAVE_CAPABILITY_GTID): GTID events as such,
         * ANNOTATE_ROWS when asked, no fake events in their place. */
        if ((rc = ox_mysql_exec(m, cfg, "SET @mariadb_slave_capability = 4", eb)) != 0)
            return rc;
    } else {
        /* MySQL 8.0.23+ reads @source_binlog_checksum; older ones ignore it. */
        (void)ox_mysql_exec(m, cfg, "SET @source_binlog_checksum = @@global.binlog_checksum", NULL);
    }
    if (heartbeat_ms > 0) {
        char sql[96];
        snprintf(sql, sizeof sql, "SET @master_heartbeat_period = %" PRIu64,
                 (uint64_t)heartbeat_ms * 1000000u);
        if ((rc = ox_mysql_exec(m, cfg, sql, eb)) != 0)
            return rc;
        if (!mariadb) {
            snprintf(sql, sizeof sql, "SET @source_heartbeat_period = %" PRIu64,
                     (uint64_t)heartbeat_ms * 1000000u);
            (void)ox_mysql_exec(m, cfg, sql, NULL);
        }
    }
    return 0;
}

static void put_str8(ox_buf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > 255)
        n = 255;
    ox_buf_putc(b, (uint8_t)n);
    ox_buf_put(b, s, n);
}

int ox_mysql_register_replica(MYSQL *m, const ox_source_config *cfg, uint32_t server_id,
                              ox_errbuf *eb)
{
    ox_buf b = OX_BUF_INIT;
    put_u32(&b, server_id);
    put_str8(&b, "oxbow");
    put_str8(&b, "");
    put_str8(&b, "");
    put_u16(&b, 0);
    put_u32(&b, 0); /* replication rank, unused */
    put_u32(&b, 0); /* master id: filled in by the server */
    int rc = send_cmd(m, cfg, COM_REGISTER_SLAVE, &b, true,
                      "register as a replica (needs REPLICATION SLAVE)", eb);
    ox_buf_free(&b);
    return rc;
}

int ox_mysql_dump_filepos(MYSQL *m, const ox_source_config *cfg, const char *file, uint64_t pos,
                          uint32_t server_id, uint16_t flags, ox_errbuf *eb)
{
    if (pos > UINT32_MAX)
        return ox_errf(eb, OX_ERANGE, "binlog position %" PRIu64 " does not fit COM_BINLOG_DUMP",
                       pos);
    ox_buf b = OX_BUF_INIT;
    put_u32(&b, (uint32_t)pos);
    put_u16(&b, flags);
    put_u32(&b, server_id);
    ox_buf_puts(&b, file ? file : "");
    int rc = send_cmd(m, cfg, COM_BINLOG_DUMP, &b, false, "start the binlog dump", eb);
    ox_buf_free(&b);
    return rc;
}

int ox_mysql_dump_gtid_mariadb(MYSQL *m, const ox_source_config *cfg, const char *gtid_pos,
                               uint32_t server_id, uint16_t flags, ox_errbuf *eb)
{
    static const char sql[] = "SET @slave_connect_state = ?";
    int rc = 0;
    MYSQL_STMT *st = mysql_stmt_init(m);
    if (!st)
        return ox_errf(eb, OX_ENOMEM, "mysql_stmt_init failed");
    MYSQL_BIND par;
    memset(&par, 0, sizeof par);
    unsigned long len = strlen(gtid_pos);
    par.buffer_type = MYSQL_TYPE_STRING;
    par.buffer = (void *)gtid_pos;
    par.buffer_length = len;
    par.length = &len;
    if (mysql_stmt_prepare(st, sql, sizeof sql - 1) || mysql_stmt_bind_param(st, &par) ||
        mysql_stmt_execute(st)) {
        rc = ox_errf(eb, OX_EDB, "setting @slave_connect_state to '%s': %s", gtid_pos,
                     mysql_stmt_error(st));
        mysql_stmt_close(st);
        return rc;
    }
    mysql_stmt_close(st);
    /* Strict mode makes the server refuse a position it cannot serve exactly
     * (error 1236) instead of silently starting elsewhere. */
    if ((rc = ox_mysql_exec(m, cfg, "SET @slave_gtid_strict_mode = 1", eb)) != 0 ||
        (rc = ox_mysql_exec(m, cfg, "SET @slave_gtid_ignore_duplicates = 0", eb)) != 0)
        return rc;
    return ox_mysql_dump_filepos(m, cfg, "", 4, server_id, flags, eb);
}

int ox_mysql_dump_gtid_mysql(MYSQL *m, const ox_source_config *cfg, const char *gtid_set,
                             uint32_t server_id, uint16_t flags, ox_errbuf *eb)
{
    ox_buf set = OX_BUF_INIT, b = OX_BUF_INIT;
    int rc = ox_mysql_gtid_set_encode(gtid_set, &set, eb);
    if (rc == 0) {
        put_u16(&b, (uint16_t)(flags | OX_DUMP_THROUGH_GTID));
        put_u32(&b, server_id);
        put_u32(&b, 0); /* no file name: the GTID set decides */
        put_u64(&b, 4);
        size_t at = b.len;
        put_u32(&b, 0);
        set_u32(b.data + at, (uint32_t)set.len);
        ox_buf_put(&b, set.data, set.len);
        rc = send_cmd(m, cfg, COM_BINLOG_DUMP_GTID_CODE, &b, false, "start the GTID binlog dump",
                      eb);
    }
    ox_buf_free(&set);
    ox_buf_free(&b);
    return rc;
}

bool ox_mysql_dump_ready(MYSQL *m)
{
    if (!m->net.pvio)
        return true;
    if (read_ahead(m))
        return true;
    /* TLS buffers decrypted bytes where poll() cannot see them: say "not
     * ready", so that poll() returns what it has; the next read, which
     * blocks at most one heartbeat period, picks them up. */
    if (mysql_get_ssl_cipher(m) != NULL)
        return false;
    struct pollfd pfd = {.fd = (int)mysql_get_socket(m), .events = POLLIN};
    return poll(&pfd, 1, 0) > 0;
}

int ox_mysql_dump_read(MYSQL *m, const ox_source_config *cfg, int timeout_ms, const uint8_t **ev,
                       size_t *len, ox_errbuf *eb)
{
    bool buffered = read_ahead(m) || mysql_get_ssl_cipher(m) != NULL;
    if (!buffered && timeout_ms >= 0) {
        struct pollfd pfd = {.fd = (int)mysql_get_socket(m), .events = POLLIN};
        int n;
        do {
            n = poll(&pfd, 1, timeout_ms);
        } while (n < 0 && errno == EINTR);
        if (n == 0)
            return OX_EAGAIN;
    }
    unsigned long n = mysql_net_read_packet(m);
    if (n == packet_error || n == 0)
        return ox_mysql_error(m, cfg, "read the binlog stream", eb);
    const uint8_t *p = m->net.read_pos;
    if (p[0] == 0xfe && n < 8)
        return ox_errf(eb, OX_ECLOSED, "end of the binlog (non-blocking dump)");
    if (p[0] != 0x00)
        return ox_errf(eb, OX_EPROTO, "unexpected binlog packet starting with 0x%02x (%lu bytes)",
                       p[0], n);
    *ev = p + 1;
    *len = n - 1;
    return 0;
}
