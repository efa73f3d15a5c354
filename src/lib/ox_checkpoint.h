/*
 * ox_checkpoint.h - the seed's checkpoint string.
 *
 * Text form: dbIp:dbPort:fileIdx:offset:timestamp:msgId, for example
 * "10.10.10.1:1:1663049355:0:1663049354:1". dbIp is written as a dotted IPv4
 * address; in JSON it is also given as a big-endian u32 (10.10.10.1 is
 * 168430081). Any field may be empty: "::::1663049354:" means "from this
 * timestamp". A parsed checkpoint records which fields were present.
 */
#ifndef OX_CHECKPOINT_H
#define OX_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "ox_err.h"

enum ox_checkpoint_field {
    OX_CP_DBIP = 1u << 0,
    OX_CP_DBPORT = 1u << 1,
    OX_CP_FILEIDX = 1u << 2,
    OX_CP_OFFSET = 1u << 3,
    OX_CP_TIMESTAMP = 1u << 4,
    OX_CP_MSGID = 1u << 5,
};

typedef struct ox_checkpoint {
    uint32_t db_ip; /* IPv4, host order of the big-endian u32 (10.10.10.1 = 168430081) */
    uint16_t db_port;
    uint64_t file_idx; /* binlog file index, or another source's segment number */
    uint64_t offset;   /* byte offset within that file */
    int64_t timestamp; /* source event time, seconds since the epoch */
    uint64_t msg_id;   /* the store's record id */
    unsigned present;  /* OR of enum ox_checkpoint_field */
} ox_checkpoint;

/* Room for the longest text form (105 bytes: every field at its widest)
 * with its NUL, and for the fast formatter's whole-word stores. The one
 * checkpoint buffer size; nothing else formats a checkpoint. */
#define OX_CHECKPOINT_STRLEN 128

/*
 * Parses `s` (NUL-terminated). Returns 0, or OX_EINVAL with a message in `eb`
 * naming the field and the offending text. Never logs. Thread-safe.
 */
int ox_checkpoint_parse(const char *s, ox_checkpoint *out, ox_errbuf *eb);

/*
 * Formats `cp` into `buf` (NUL-terminated, cut to cap - 1 bytes if cap is
 * below OX_CHECKPOINT_STRLEN). Absent fields are left empty. Returns the
 * length written. Fast (no printf): used per record by the subscriber
 * stream and the client. Never logs; thread-safe.
 */
size_t ox_checkpoint_format(const ox_checkpoint *cp, char *buf, size_t cap);

/* Formats an IPv4 address held as a host-order u32 ("10.10.10.1"). */
void ox_ipv4_format(uint32_t ip, char buf[16]);

/* Parses a dotted IPv4 address strictly (four decimal octets 0-255, no
 * leading '+' or spaces). Returns 0 or OX_EINVAL. */
int ox_ipv4_parse(const char *s, size_t len, uint32_t *out);

#endif
