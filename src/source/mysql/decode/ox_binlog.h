/*
 * ox_binlog.h - MySQL/MariaDB binary log decoder: events in, ox_change out.
 *
 * The decoder turns binlog events (v4 format: 19-byte header, or the longer
 * one its FORMAT_DESCRIPTION declares, body, optional 4-byte CRC32; also
 * the v2/v3 binlogs of MySQL 4.x; v1 and MySQL 5.1 pre-GA row events are
 * refused with OX_EUNSUPP) into ox_change records. The same decoder serves offline files
 * (ox_binlog_decode_file) and live replication (ox_binlog_decoder_feed, one
 * event at a time, the network packet's leading OK byte 0x00 already
 * stripped by the caller).
 *
 * Records delivered (docs/records.md has the JSON form):
 *  - begin:     MariaDB GTID (non-standalone), QUERY "BEGIN", QUERY "XA START";
 *  - insert/update/delete: one per row of WRITE/UPDATE/DELETE_ROWS (v0, v1,
 *               v2, MariaDB compressed, MySQL PARTIAL_UPDATE_ROWS), including
 *               rows inside a MySQL TRANSACTION_PAYLOAD;
 *  - commit:    XID, QUERY "COMMIT"/"ROLLBACK", XA_PREPARE, QUERY "XA PREPARE";
 *  - ddl:       any other QUERY text (DDL, or statement-based DML);
 *  - heartbeat: HEARTBEAT and HEARTBEAT_V2 (live only).
 * Other events (FORMAT_DESCRIPTION, ROTATE, TABLE_MAP, GTID, GTID_LIST,
 * PREVIOUS_GTIDS, ANNOTATE_ROWS, ROWS_QUERY, STOP, INCIDENT, checkpoints,
 * INTVAR/RAND/USER_VAR/LOAD events, unknown types) update decoder state or are
 * skipped by the header's event length.
 *
 * Positions: `pos` passed to feed is the byte offset of the event in the
 * current file; a record's offset is that value and next_offset is pos+len
 * (events inside a TRANSACTION_PAYLOAD carry the payload's offset and end).
 * The header's log_pos is never trusted for positions (it is 0 in artificial
 * ROTATE/FORMAT_DESCRIPTION events and refers to the master in relay logs).
 *
 * Thread: a decoder is used by one thread at a time. It never logs.
 */
#ifndef OX_BINLOG_H
#define OX_BINLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ox_change.h"
#include "ox_err.h"
#include "ox_source.h" /* ox_change_fn */

typedef struct ox_binlog_decoder ox_binlog_decoder;

/*
 * Optional schema hook for tables whose TABLE_MAP carries no column names
 * (binlog_row_metadata=MINIMAL): live capture reads information_schema.
 * Return 0 and fill names (ncols entries; the decoder copies the strings, the
 * hook keeps ownership), is_pk and is_text (charset != binary, for string
 * columns; ignored for other types), or OX_ENOENT to fall back to positional
 * names "@1".. . Arrays are pre-filled with NULL/false. Any other error is
 * returned by feed (with the table named in eb). Called once per TABLE_MAP
 * whose bytes differ from the cached map of the same table id (in practice
 * once per table per DDL/table-id change), not once per transaction.
 */
typedef int (*ox_binlog_columns_fn)(void *arg, const char *db, const char *table, uint32_t ncols,
                                    char **names, bool *is_pk, bool *is_text);

/*
 * The schema history's hook (ox_mysql_schema_hist.h), richer than
 * ox_binlog_columns_fn and tried instead of it when installed: the table as
 * the history knows it at the TABLE_MAP's position. Without COLUMN_NAME
 * metadata the decoder takes names, primary key (in key order), character
 * sets, signedness and ENUM/SET member names from it; with FULL metadata the
 * TABLE_MAP stays authoritative and the hook's answer is only cross-checked
 * (ox_binlog_stats.schema_mismatches). Return 0 with *info filled (memory
 * owned by the hook, valid until it is called again), OX_ENOENT when the
 * history cannot say (unknown table, uncertain after a statement it could
 * not apply), or another OX_E* code, which feed returns. When the hook
 * cannot say, or its columns do not fit the TABLE_MAP's (count, or a
 * character/ENUM/SET column where the map has none), the rows carry
 * OX_SCHEMA_UNKNOWN and positional names "@1"...
 */
typedef struct ox_binlog_colinfo {
    const char *name;
    /* Addition: the base type keyword, lower case ("int", "inet6"), or NULL.
     * MariaDB's INET6, INET4 and UUID are BINARY(n) in the binlog; with this
     * type (with FULL metadata too) they are rendered as SELECT shows them. */
    const char *type;
    const char *charset; /* lower-case charset name; NULL: not a character column */
    bool is_unsigned;
    uint32_t nmembers; /* ENUM/SET member names, in order */
    char *const *members;
} ox_binlog_colinfo;

typedef struct ox_binlog_tableinfo {
    uint32_t ncols;
    const ox_binlog_colinfo *cols;
    uint32_t npk;
    const uint32_t *pk; /* column indexes in key order */
} ox_binlog_tableinfo;

typedef int (*ox_binlog_schema_fn)(void *arg, const char *db, const char *table,
                                   ox_binlog_tableinfo *info);

/* Creates a decoder. Returns 0 (aborts on OOM: ox_alloc.h); *out is owned by the caller
 * (free with ox_binlog_decoder_free). */
int ox_binlog_decoder_create(ox_binlog_decoder **out);

/* Frees the decoder and everything it owns. NULL is a no-op. */
void ox_binlog_decoder_free(ox_binlog_decoder *d);

/* Installs (or with fn=NULL removes) the schema hook. */
void ox_binlog_decoder_set_columns_fn(ox_binlog_decoder *d, ox_binlog_columns_fn fn, void *arg);

/* Installs (or with fn=NULL removes) the schema history hook. */
void ox_binlog_decoder_set_schema_fn(ox_binlog_decoder *d, ox_binlog_schema_fn fn, void *arg);

/* Forgets the bytes of cached table maps, so that the next TABLE_MAP of every
 * table is parsed (and the schema hooks asked) again even if its bytes are
 * unchanged; the source calls it after each DDL statement. Safe inside the
 * change callback. */
void ox_binlog_decoder_forget_maps(ox_binlog_decoder *d);

/* Sets the current file name (copied); also updated by ROTATE and by the file
 * reader (the basename of the path). It is the records' `file`, and its
 * numeric suffix is their file_idx. */
void ox_binlog_decoder_set_file(ox_binlog_decoder *d, const char *name);

/* Turns CRC32 verification on (the default) or off (`--no-verify-checksum`).
 * Off still strips the 4 checksum bytes when the FORMAT_DESCRIPTION said so. */
void ox_binlog_decoder_set_verify(ox_binlog_decoder *d, bool verify);

/* Tells the decoder whether events carry a CRC32 before the first
 * FORMAT_DESCRIPTION has been seen (live: the checksum negotiated with
 * @master_binlog_checksum, for the artificial ROTATE that precedes the
 * FORMAT_DESCRIPTION). Without it, a ROTATE seen before any
 * FORMAT_DESCRIPTION is checked for a trailing CRC32 of its own bytes. */
void ox_binlog_decoder_set_checksum(ox_binlog_decoder *d, bool on);

/*
 * Feeds one complete event (19-byte header .. end, including the 4-byte CRC32
 * when the FORMAT_DESCRIPTION negotiated one) located at byte `pos` of the
 * current file; calls fn for each change (BEGIN, rows, DDL, COMMIT,
 * heartbeat). Verifies the CRC32 (zlib crc32) when checksums are on. Events
 * with log_pos 0 (artificial ROTATE/FORMAT_DESCRIPTION in a live stream) are
 * accepted. Before any FORMAT_DESCRIPTION the decoder assumes a v4 binlog
 * without checksums, and detects a checksum from the FORMAT_DESCRIPTION
 * itself.
 * Returns 0, a non-zero return of fn (decoding stops there), or OX_ETRUNC /
 * OX_ECORRUPT / OX_EUNSUPP / OX_ENOMEM with eb naming the file and offset.
 * The ox_change passed to fn is valid only during the call.
 */
int ox_binlog_decoder_feed(ox_binlog_decoder *d, const uint8_t *ev, size_t len, uint64_t pos,
                           ox_change_fn fn, void *arg, ox_errbuf *eb);

/*
 * Decodes a whole binlog/relay-log file (checks the 0xfe 'bin' magic),
 * streaming it with a bounded buffer (memory stays flat whatever the file
 * size). Sets the current file to the path's basename first. A ".gz" path
 * is read through zlib. Returns 0 at a clean end of file, fn's non-zero
 * return, or an error with eb naming the file and offset (a truncated last
 * event is OX_ETRUNC).
 */
int ox_binlog_decode_file(ox_binlog_decoder *d, const char *path, ox_change_fn fn, void *arg,
                          ox_errbuf *eb);

/* Forgets table maps, the pending GTID/annotation and partial-transaction
 * state (e.g. after a reconnect). Keeps the file name, the checksum setting
 * of the last FORMAT_DESCRIPTION and the schema hook. */
void ox_binlog_decoder_reset(ox_binlog_decoder *d);

/* Counters for progress and tests. */
typedef struct ox_binlog_stats {
    uint64_t events;  /* events fed (inner events of payloads included) */
    uint64_t rows;    /* row changes delivered */
    uint64_t skipped; /* events ignored (unknown, statement-context, ...) */
    uint64_t bytes;   /* bytes of events fed */
    /* Addition (schema history): TABLE_MAPs with FULL metadata whose
     * column names disagreed with the schema hook, and TABLE_MAPs without
     * names that the hook could not name (rows flagged "schema":"unknown"). */
    uint64_t schema_mismatches;
    uint64_t schema_unknown;
} ox_binlog_stats;

void ox_binlog_decoder_stats(const ox_binlog_decoder *d, ox_binlog_stats *out);

/* True when the last FORMAT_DESCRIPTION announced CRC32 checksums (the live
 * helper may use it to know whether packets end with 4 checksum bytes). */
bool ox_binlog_decoder_has_checksum(const ox_binlog_decoder *d);

#endif
