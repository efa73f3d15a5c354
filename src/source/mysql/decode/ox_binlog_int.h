/*
 * ox_binlog_int.h - internals shared by the ox_binlog*.c files (not an API).
 *
 * The decoder is split by concern: ox_binlog.c (event framing, header and
 * checksum, dispatch, transaction state), ox_binlog_fde.c (format
 * description), ox_binlog_tablemap.c (TABLE_MAP and optional metadata),
 * ox_binlog_rows.c (rows events), ox_binlog_value.c (column type decoding),
 * ox_binlog_decimal.c, ox_binlog_time.c, ox_binlog_json.c (MySQL binary
 * JSON and partial-update diffs), ox_binlog_payload.c (zstd transaction
 * payloads, MariaDB zlib-compressed events) and ox_binlog_file.c (files).
 */
#ifndef OX_BINLOG_INT_H
#define OX_BINLOG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <string.h>

#include "ox_le.h"
#include "ox_binlog.h"
#include "ox_buf.h"

#define OX_BL_HEADER_LEN 19
#define OX_BL_CRC_LEN    4
/* LOG_EVENT_ARTIFICIAL_F: events made up by the server for a dump thread. */
#define OX_BL_FLAG_ARTIFICIAL 0x20

/* Event types (MySQL and MariaDB share the numbering below 160). */
enum {
    OX_EV_START_V3 = 1,
    OX_EV_QUERY = 2,
    OX_EV_STOP = 3,
    OX_EV_ROTATE = 4,
    OX_EV_INTVAR = 5,
    OX_EV_LOAD = 6,
    OX_EV_SLAVE = 7,
    OX_EV_CREATE_FILE = 8,
    OX_EV_APPEND_BLOCK = 9,
    OX_EV_EXEC_LOAD = 10,
    OX_EV_DELETE_FILE = 11,
    OX_EV_NEW_LOAD = 12,
    OX_EV_RAND = 13,
    OX_EV_USER_VAR = 14,
    OX_EV_FORMAT_DESCRIPTION = 15,
    OX_EV_XID = 16,
    OX_EV_BEGIN_LOAD_QUERY = 17,
    OX_EV_EXECUTE_LOAD_QUERY = 18,
    OX_EV_TABLE_MAP = 19,
    OX_EV_WRITE_ROWS_V0 = 20,
    OX_EV_UPDATE_ROWS_V0 = 21,
    OX_EV_DELETE_ROWS_V0 = 22,
    OX_EV_WRITE_ROWS_V1 = 23,
    OX_EV_UPDATE_ROWS_V1 = 24,
    OX_EV_DELETE_ROWS_V1 = 25,
    OX_EV_INCIDENT = 26,
    OX_EV_HEARTBEAT = 27,
    OX_EV_IGNORABLE = 28,
    OX_EV_ROWS_QUERY = 29,
    OX_EV_WRITE_ROWS = 30,
    OX_EV_UPDATE_ROWS = 31,
    OX_EV_DELETE_ROWS = 32,
    OX_EV_GTID = 33,
    OX_EV_ANONYMOUS_GTID = 34,
    OX_EV_PREVIOUS_GTIDS = 35,
    OX_EV_TRANSACTION_CONTEXT = 36,
    OX_EV_VIEW_CHANGE = 37,
    OX_EV_XA_PREPARE = 38,
    OX_EV_PARTIAL_UPDATE_ROWS = 39,
    OX_EV_TRANSACTION_PAYLOAD = 40,
    OX_EV_HEARTBEAT_V2 = 41,
    OX_EV_GTID_TAGGED = 42,
    OX_EV_MARIA_ANNOTATE_ROWS = 160,
    OX_EV_MARIA_BINLOG_CHECKPOINT = 161,
    OX_EV_MARIA_GTID = 162,
    OX_EV_MARIA_GTID_LIST = 163,
    OX_EV_MARIA_START_ENCRYPTION = 164,
    OX_EV_MARIA_QUERY_COMPRESSED = 165,
    OX_EV_MARIA_WRITE_ROWS_COMPRESSED_V1 = 166,
    OX_EV_MARIA_UPDATE_ROWS_COMPRESSED_V1 = 167,
    OX_EV_MARIA_DELETE_ROWS_COMPRESSED_V1 = 168,
    OX_EV_MARIA_WRITE_ROWS_COMPRESSED = 169,
    OX_EV_MARIA_UPDATE_ROWS_COMPRESSED = 170,
    OX_EV_MARIA_DELETE_ROWS_COMPRESSED = 171,
};

/* Column type codes (MYSQL_TYPE_*). */
enum {
    OX_MT_DECIMAL = 0,
    OX_MT_TINY = 1,
    OX_MT_SHORT = 2,
    OX_MT_LONG = 3,
    OX_MT_FLOAT = 4,
    OX_MT_DOUBLE = 5,
    OX_MT_NULL = 6,
    OX_MT_TIMESTAMP = 7,
    OX_MT_LONGLONG = 8,
    OX_MT_INT24 = 9,
    OX_MT_DATE = 10,
    OX_MT_TIME = 11,
    OX_MT_DATETIME = 12,
    OX_MT_YEAR = 13,
    OX_MT_NEWDATE = 14,
    OX_MT_VARCHAR = 15,
    OX_MT_BIT = 16,
    OX_MT_TIMESTAMP2 = 17,
    OX_MT_DATETIME2 = 18,
    OX_MT_TIME2 = 19,
    OX_MT_TYPED_ARRAY = 20,
    OX_MT_VECTOR = 242,
    OX_MT_JSON = 245,
    OX_MT_NEWDECIMAL = 246,
    OX_MT_ENUM = 247,
    OX_MT_SET = 248,
    OX_MT_TINY_BLOB = 249,
    OX_MT_MEDIUM_BLOB = 250,
    OX_MT_LONG_BLOB = 251,
    OX_MT_BLOB = 252,
    OX_MT_VAR_STRING = 253,
    OX_MT_STRING = 254,
    OX_MT_GEOMETRY = 255,
};

/* How a column's bytes are decoded (resolved once per TABLE_MAP). */
enum ox_bl_dk {
    DK_NONE = 0,
    DK_INT8,
    DK_INT16,
    DK_INT24,
    DK_INT32,
    DK_INT64,
    DK_FLOAT,
    DK_DOUBLE,
    DK_NEWDECIMAL,
    DK_YEAR,
    DK_DATE,
    DK_TIME,
    DK_TIME2,
    DK_DATETIME,
    DK_DATETIME2,
    DK_TIMESTAMP,
    DK_TIMESTAMP2,
    DK_VARSTR, /* 1- or 2-byte length prefix (len_bytes) */
    DK_ENUM,   /* len_bytes = 1 or 2 */
    DK_SET,    /* len_bytes = 1..8 */
    DK_BIT,    /* len_bytes = 1..8 */
    DK_BLOB,   /* len_bytes = 1..4 length prefix */
    DK_JSON,   /* MySQL binary JSON, len_bytes length prefix */
    DK_GEOMETRY,
    DK_VECTOR,
};

/* Character set classes of string columns. */
enum ox_bl_cs {
    CS_UNKNOWN = 0, /* no metadata: UTF-8 if valid, else base64 */
    CS_BINARY,
    CS_UTF8,
    CS_LATIN1,
    CS_UCS2,
    CS_UTF16,
    CS_UTF16LE,
    CS_UTF32,
};

/* MariaDB's fixed-size binary types that the binlog calls BINARY(n): only the
 * schema history knows them (ox_binlog_colinfo.type), and SELECT shows them
 * as text. */
enum ox_bl_fbt {
    FBT_NONE = 0,
    FBT_INET6, /* BINARY(16): an IPv6 address, network order */
    FBT_INET4, /* BINARY(4): an IPv4 address, network order */
    FBT_UUID,  /* BINARY(16): the UUID's bytes in text order */
};

typedef struct ox_bl_col {
    uint8_t type; /* type byte from the TABLE_MAP */
    uint8_t real; /* STRING resolved to ENUM/SET/STRING */
    uint8_t dk;   /* enum ox_bl_dk */
    uint8_t cs;   /* enum ox_bl_cs */
    uint8_t len_bytes;
    uint8_t prec, scale, fsp;
    uint8_t csc; /* charset metadata list the column is counted in */
    bool unsig;
    bool pad;    /* BINARY(n): pad the value with 0x00 to max_len bytes */
    uint8_t fbt; /* enum ox_bl_fbt: render a BINARY(n) as its type's text */
    uint32_t max_len;
    uint32_t nnames; /* ENUM/SET value names from metadata */
    char **names;
    uint32_t *name_lens;
} ox_bl_col;

typedef struct ox_bl_table {
    uint64_t id;
    uint8_t *raw; /* TABLE_MAP body, to skip re-parsing identical maps */
    size_t rawlen;
    char *db, *table;
    uint32_t ncols;
    ox_bl_col *c;
    ox_column *cols; /* the public view handed out in ox_change */
    uint32_t npk;
    uint32_t *pk;
    uint32_t njson;   /* JSON columns, for PARTIAL_UPDATE_ROWS bitmaps */
    uint64_t version; /* ox_change.table_version of this map's rows */
    uint8_t schema;   /* enum ox_schema_state, for the rows of this map */
} ox_bl_table;

struct ox_binlog_decoder {
    /* Format description. */
    bool have_fde;
    bool checksum;        /* events end with a CRC32 */
    bool assume_checksum; /* before the first FDE (live stream) */
    bool verify;
    bool mariadb;    /* the FORMAT_DESCRIPTION's server is MariaDB */
    uint8_t hdr_len; /* common header length (19, more for some old servers) */
    char server_version[51];
    uint8_t post_len[256];
    /* Position context. */
    char file[512];
    uint64_t file_idx;
    bool file_locked; /* file decoding: ROTATE does not rename */
    /* Per-event context (set by feed for the event being decoded). */
    uint64_t ev_pos, ev_next;
    uint32_t ev_ts, ev_server;
    const char *ev_file;
    /* Transaction state. */
    bool in_txn;
    bool have_gtid;
    char gtid[160];
    bool have_annot;
    ox_buf annot; /* NUL-terminated annotate/rows-query text */
    ox_buf query; /* NUL-terminated query text of the current QUERY */
    char db[256];
    /* Table maps: open addressing on table id. */
    ox_bl_table **tabs;
    size_t tabcap, ntabs;
    /* Row decoding scratch, reused. */
    ox_value *before, *after;
    uint32_t valcap;
    ox_buf scratch;
    ox_buf inflate; /* decompressed MariaDB rows/queries */
    ox_buf payload; /* decompressed MySQL transaction payload */
    int payload_depth;
    ox_binlog_columns_fn columns_fn;
    void *columns_arg;
    ox_binlog_schema_fn schema_fn; /* the schema history's hook */
    void *schema_arg;
    ox_binlog_stats stats;
};

/* Bounded little-endian reader over one event. */
typedef struct ox_rd {
    const uint8_t *p, *end;
} ox_rd;

static inline size_t rd_left(const ox_rd *r)
{
    return (size_t)(r->end - r->p);
}

/* Little-endian integer of n bytes (0..8). */
static inline uint64_t le_n(const uint8_t *p, int n)
{
    switch (n) {
    case 1:
        return p[0];
    case 2:
        return OX_LE16(ox_load16(p));
    case 4:
        return OX_LE32(ox_load32(p));
    case 8:
        return OX_LE64(ox_load64(p));
    default: {
        uint64_t v = 0;
        for (int i = n - 1; i >= 0; i--)
            v = (v << 8) | p[i];
        return v;
    }
    }
}

/* Big-endian integer of n bytes (0..8). */
static inline uint64_t be_n(const uint8_t *p, int n)
{
    switch (n) {
    case 1:
        return p[0];
    case 2:
        return OX_BE16(ox_load16(p));
    case 4:
        return OX_BE32(ox_load32(p));
    case 8:
        return OX_BE64(ox_load64(p));
    default: {
        uint64_t v = 0;
        for (int i = 0; i < n; i++)
            v = (v << 8) | p[i];
        return v;
    }
    }
}

/* Reads a MySQL length-encoded integer; false if truncated or 0xff/0xfb. */
static inline bool rd_lenenc(ox_rd *r, uint64_t *out)
{
    if (r->p >= r->end)
        return false;
    uint8_t c = *r->p;
    int n = c < 0xfb ? 0 : c == 0xfc ? 2 : c == 0xfd ? 3 : c == 0xfe ? 8 : -1;
    if (n < 0 || rd_left(r) < (size_t)n + 1)
        return false;
    *out = n == 0 ? c : le_n(r->p + 1, n);
    r->p += n + 1;
    return true;
}

/* Error helper: fills eb with "FILE offset N: <what>" and returns err. */
int ox_bl_err(ox_binlog_decoder *d, ox_errbuf *eb, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ox_binlog_crc.c: zlib-compatible CRC32 (crc32(0, p, n)), accelerated. */
uint32_t ox_bl_crc32(const uint8_t *p, size_t n);

/* ox_binlog_fde.c */
int ox_bl_fde(ox_binlog_decoder *d, const uint8_t *ev, size_t len, ox_errbuf *eb);
bool ox_bl_fde_has_alg(const char *version);
/* START_EVENT_V3 before any FORMAT_DESCRIPTION: sets up a v3 binlog, refuses
 * v1 (and unknown versions) with OX_EUNSUPP. */
int ox_bl_start_v3(ox_binlog_decoder *d, const uint8_t *ev, size_t len, ox_errbuf *eb);

/* ox_binlog_tablemap.c */
int ox_bl_table_map(ox_binlog_decoder *d, const uint8_t *body, size_t n, ox_errbuf *eb);
ox_bl_table *ox_bl_table_find(ox_binlog_decoder *d, uint64_t id);
void ox_bl_tables_clear(ox_binlog_decoder *d);
void ox_bl_tables_forget_raw(ox_binlog_decoder *d);
/* Fills c's layout fields (dk, real, len_bytes, ...) from type + meta bytes;
 * returns the number of meta bytes consumed or -1 if too few. */
int ox_bl_col_layout(ox_bl_col *c, uint8_t type, const uint8_t *meta, size_t metalen);

/* ox_binlog_rows.c */
int ox_bl_rows(ox_binlog_decoder *d, int type, const uint8_t *body, size_t n, ox_change_fn fn,
               void *arg, ox_errbuf *eb);

/* ox_binlog_value.c: decodes one column value at p (avail bytes). Text that
 * must be formatted goes to `scratch` and v->v.u holds its offset with
 * v->kind | OX_BL_SCRATCH (fixed up by the caller once the row is done).
 * Returns bytes consumed, or -1 (truncated/corrupt) / -2 (unsupported). */
#define OX_BL_SCRATCH 0x80
long ox_bl_value(const ox_bl_col *c, const uint8_t *p, size_t avail, ox_buf *scratch, ox_value *v);

/* The fixed-width integer columns (TINYINT, SMALLINT, INT, BIGINT), the one
 * decoding that ox_bl_value and the rows decoder's hot path share: bytes
 * used, or -1 truncated. Only for those four kinds. Inline: it is the most
 * common column of all. */
static inline long ox_bl_int_value(const ox_bl_col *c, const uint8_t *p, size_t avail, ox_value *v)
{
    _Static_assert(OX_VAL_UINT == OX_VAL_INT + 1, "the kind is one add");
    uint8_t kind = (uint8_t)(OX_VAL_INT + (c->unsig ? 1 : 0));
    switch (c->dk) {
    case DK_INT8:
        if (avail < 1)
            return -1;
        v->kind = kind;
        v->v.u = c->unsig ? p[0] : (uint64_t)(int64_t)(int8_t)p[0];
        return 1;
    case DK_INT16:
        if (avail < 2)
            return -1;
        v->kind = kind;
        v->v.u = c->unsig ? le_n(p, 2) : (uint64_t)(int64_t)(int16_t)le_n(p, 2);
        return 2;
    case DK_INT32:
        if (avail < 4)
            return -1;
        v->kind = kind;
        v->v.u = c->unsig ? le_n(p, 4) : (uint64_t)(int64_t)(int32_t)le_n(p, 4);
        return 4;
    default: /* DK_INT64 */
        if (avail < 8)
            return -1;
        v->kind = kind;
        v->v.u = le_n(p, 8);
        return 8;
    }
}

/* A DOUBLE column's 8 little-endian bytes, shared like ox_bl_int_value:
 * bytes used, or -1 truncated. */
static inline long ox_bl_double_value(const uint8_t *p, size_t avail, ox_value *v)
{
    if (avail < 8)
        return -1;
    uint64_t u = le_n(p, 8);
    memcpy(&v->v.d, &u, 8);
    v->kind = OX_VAL_DOUBLE;
    return 8;
}
/* Appends s (n bytes in charset class cs) to out as UTF-8; false (out
 * unchanged or holding a partial result past its old length) when the bytes
 * are not text in that charset. */
bool ox_bl_to_utf8(uint8_t cs, const uint8_t *s, size_t n, ox_buf *out);
/* Partial JSON (diff list) variant for PARTIAL_UPDATE_ROWS. */
long ox_bl_value_json_diff(const ox_bl_col *c, const uint8_t *p, size_t avail, ox_buf *scratch,
                           ox_value *v);

/* ox_binlog_decimal.c: binary DECIMAL(prec,scale) -> text. Returns bytes
 * consumed (or -1), writes at most 80 chars into out and sets *outlen. */
long ox_bl_decimal(const uint8_t *p, size_t avail, int prec, int scale, char *out, size_t *outlen);
int ox_bl_decimal_size(int prec, int scale);

/* ox_binlog_time.c: formatters writing into out (>= 40 bytes); return length. */
size_t ox_bl_fmt_date(char *out, uint32_t packed3);
size_t ox_bl_fmt_ymdhms(char *out, unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi,
                        unsigned s, uint32_t usec, int fsp);
size_t ox_bl_fmt_time(char *out, bool neg, unsigned h, unsigned mi, unsigned s, uint32_t usec,
                      int fsp);
size_t ox_bl_fmt_epoch(char *out, int64_t secs, uint32_t usec, int fsp);
/* Packed TIME/DATETIME longlongs (as in MySQL binary JSON opaque values). */
size_t ox_bl_fmt_packed_datetime(char *out, int64_t packed, int fsp, bool date_only);
size_t ox_bl_fmt_packed_time(char *out, int64_t packed, int fsp);
/* Reads the (fsp+1)/2 fraction bytes; returns microseconds. */
uint32_t ox_bl_frac_usec(const uint8_t *p, int fsp);

/* ox_binlog_json.c */
int ox_mysql_json_to_text(const uint8_t *p, size_t n, ox_buf *out);
/* Renders a partial-update diff list as a JSON array. */
int ox_mysql_json_diff_to_text(const uint8_t *p, size_t n, ox_buf *out);

/* ox_binlog_payload.c */
int ox_bl_payload(ox_binlog_decoder *d, const uint8_t *body, size_t n, ox_change_fn fn, void *arg,
                  ox_errbuf *eb);
/* MariaDB compressed block: 1 header byte (0x80 | lenlen) + big-endian
 * length + zlib stream. Decompresses into out (appending). */
int ox_bl_maria_uncompress(const uint8_t *p, size_t n, ox_buf *out);

/* ox_binlog.c: feeds an event that came from inside a payload. */
int ox_bl_dispatch(ox_binlog_decoder *d, const uint8_t *ev, size_t len, ox_change_fn fn, void *arg,
                   ox_errbuf *eb);
/* Fills the position/context fields of a record. */
void ox_bl_change_init(const ox_binlog_decoder *d, ox_change *c, int op);

#endif
