/*
 * ox_binlog_stream.h - the bytes of the replication stream the MySQL source
 * reads and writes itself, outside the event decoder: the 19-byte v4 event
 * header, ROTATE events, and the binary GTID set of COM_BINLOG_DUMP_GTID
 * (layout in ox_mysql_dump.h). Pure functions of their input: no
 * connection, no allocation beyond `out`, fuzzed by fuzz_mysql_stream.
 * Never logs; any thread.
 */
#ifndef OX_BINLOG_STREAM_H
#define OX_BINLOG_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ox_buf.h"
#include "ox_err.h"

/* Binlog v4 event header: 19 bytes. */
#define OX_EV_HEADER_LEN   19
#define OX_EV_ROTATE       4
#define OX_EV_FORMAT_DESC  15
#define OX_EV_HEARTBEAT    27
#define OX_EV_ARTIFICIAL_F 0x20

typedef struct ox_ev_header {
    uint32_t timestamp;
    uint8_t type;
    uint32_t server_id;
    uint32_t size;
    uint32_t log_pos;
    uint16_t flags;
} ox_ev_header;

/* Reads the header of an event of len bytes; OX_ETRUNC if too short. */
int ox_ev_header_parse(const uint8_t *ev, size_t len, ox_ev_header *h);

/* Parses a ROTATE event (checksum: whether it ends with 4 CRC bytes) into the
 * next file's name and position. Returns 0 or OX_ECORRUPT. */
int ox_ev_rotate_parse(const uint8_t *ev, size_t len, bool checksum, char *name, size_t cap,
                       uint64_t *pos);

/*
 * Encodes a MySQL GTID set text into the binary form above (appended to
 * out). Accepts whitespace and newlines between elements. Returns 0 or
 * OX_EINVAL naming the offending text.
 */
int ox_mysql_gtid_set_encode(const char *text, ox_buf *out, ox_errbuf *eb);

#endif
