/*
 * ox_mysql_schema_hist.h - the schema history: the catalog
 * (ox_mysql_catalog.h) versioned by binlog position, kept on disk so that a
 * store that restarts, or is stopped and restored hours later, decodes old
 * rows with the schema in force when they were written.
 *
 * Positions: a version is keyed by (file_idx, offset) of the DDL event that
 * made it; it is in force for every event after that offset. The snapshot
 * (information_schema when the history was empty) is keyed by the position
 * capture started from and is in force from that position on.
 *
 * Starting at position P (ox_schema_hist_start): the catalog is the last
 * snapshot keyed at or before P plus every version keyed before P. Versions
 * at or after P are dropped from the file: the stream delivers those DDL
 * events again and they are re-applied, so a version is never applied twice
 * and a DDL that was seen but whose transaction never reached the store does
 * not leak into the past. When nothing in the file is at or before P (a
 * start in the past of an older snapshot), the first snapshot is used (see
 * docs/mysql_capture.md, "Schema history", for this caveat).
 *
 * File `history` in the directory given to open (the store's
 * `<store.dir>/schema`), little-endian:
 *   header (16 bytes): magic "OXSCHIST" | u32 version (1) | u32 CRC32C of
 *                      the 12 bytes before it
 *   records:           u32 payload length | u32 CRC32C of the payload |
 *                      payload
 *   payload:           u8 kind (1 snapshot, 2 version) | u8[3] zero |
 *                      u32 entry count | u64 file_idx | u64 offset | entries
 *   entry:             u8 type, then
 *                        1 server charset: str
 *                        2 database put:   str db | str charset
 *                        3 database drop:  str db
 *                        4 table put:      str db | str name | str charset |
 *                                          u8 uncertain | u32 ncols | per
 *                                          column: str name | str type |
 *                                          str charset | u8 is_text |
 *                                          u32 pkseq | u32 nmembers | str..
 *                        5 table drop:     str db | str name
 *   str:               u32 length (0xFFFFFFFF = NULL) | bytes
 * A snapshot record replaces the whole catalog; a version record puts or
 * drops the tables and databases one DDL statement touched (their state
 * after it), so the file does not depend on the DDL reader that made it.
 *
 * Durability: each record is appended with ox_durable_write and fsynced
 * before the DDL is delivered downstream. A torn last record (crash during
 * the append) is cut off at open; a bad CRC anywhere else, a bad header or a
 * record that does not parse is OX_ECORRUPT (the history is never guessed).
 * Bounded: at start, when more than a few versions precede P, everything
 * before P is folded into one snapshot at P and the file is rewritten
 * atomically (ox_durable_create), since the store never resumes before its
 * own last durable position.
 *
 * Thread: one thread at a time. Never logs.
 */
#ifndef OX_MYSQL_SCHEMA_HIST_H
#define OX_MYSQL_SCHEMA_HIST_H

#include <stdbool.h>
#include <stdint.h>

#include "ox_err.h"
#include "ox_mysql_catalog.h"
#include "ox_mysql_ddl.h"

typedef struct ox_schema_hist ox_schema_hist;

#define OX_SCHEMA_HIST_FILE "history"
/* Versions before the start position above which the file is compacted. */
#define OX_SCHEMA_HIST_COMPACT 64

/* Flag for ox_schema_hist_open besides the ox_durable_flags: read only
 * (`oxbow schema` on a running store's history): nothing is created,
 * truncated or rewritten, and apply/snapshot are refused. */
#define OX_SCHEMA_HIST_RDONLY 0x100u

/* Opens (creating `dir` and an empty history if missing) and reads the
 * history; flags are ox_durable_flags and OX_SCHEMA_HIST_RDONLY. Returns 0
 * and *out (free with ox_schema_hist_close), or OX_ENOENT (read only, no
 * history) / OX_ECORRUPT / OX_EIO / ... with eb. */
int ox_schema_hist_open(const char *dir, unsigned flags, ox_schema_hist **out, ox_errbuf *eb);
void ox_schema_hist_close(ox_schema_hist *h);

/* True when the history holds no snapshot yet (take one, then call
 * ox_schema_hist_snapshot). */
bool ox_schema_hist_empty(const ox_schema_hist *h);

/* Records the initial snapshot at (file_idx, offset); takes ownership of
 * cat. Returns 0 or an I/O error. */
int ox_schema_hist_snapshot(ox_schema_hist *h, uint64_t file_idx, uint64_t offset, ox_cat *cat,
                            ox_errbuf *eb);

/* Builds the catalog in force at (file_idx, offset) and drops later
 * versions (see above). Idempotent: later calls are no-ops. */
int ox_schema_hist_start(ox_schema_hist *h, uint64_t file_idx, uint64_t offset, ox_errbuf *eb);
bool ox_schema_hist_started(const ox_schema_hist *h);

/* Applies a DDL statement at event position (file_idx, offset) and appends
 * the version. *effect (optional) gets ox_cat_apply's result. Call
 * ox_schema_hist_start first. */
int ox_schema_hist_apply(ox_schema_hist *h, uint64_t file_idx, uint64_t offset,
                         const ox_ddl_stmt *s, int *effect, ox_errbuf *eb);

/* The current catalog (valid until the next apply/start). */
const ox_cat *ox_schema_hist_catalog(const ox_schema_hist *h);

/* Records in the file (snapshots + versions), for tests and status. */
uint32_t ox_schema_hist_records(const ox_schema_hist *h);

#endif
