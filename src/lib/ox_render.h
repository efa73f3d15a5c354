/*
 * ox_render.h - a change record (ox_change.h) as one JSON object.
 *
 * Key order is fixed (docs/records.md): op, kind, db, table, pk, schema,
 * the DDL members, before, after, gtid, xid, sql, file, fileIdx, offset,
 * nextOffset, timestamp, serverId. Absent (NULL) fields are omitted;
 * position fields are always present.
 *
 * A renderer keeps what it derives from a table (the db/table/pk members,
 * each column's escaped key), keyed by the record's table_version, and the
 * position members shared by the rows of one source event. Its owner, the
 * store or a CLI command, keeps one for the life of its output; the source
 * only promises, through table_version, when a table's shape is the same.
 */
#ifndef OX_RENDER_H
#define OX_RENDER_H

#include "ox_buf.h"
#include "ox_change.h"

typedef struct ox_render ox_render;

/* Returns a renderer with empty caches (aborts on OOM, like ox_buf).
 * Free it with ox_render_free; ox_render_free(NULL) is a no-op. */
ox_render *ox_render_create(void);
void ox_render_free(ox_render *r);

/*
 * Appends the JSON object for `c` to `out` (no trailing newline). With
 * r == NULL nothing is cached (same bytes, slower for rows). Never logs.
 * One renderer is used by one thread at a time.
 */
void ox_render_json(ox_render *r, const ox_change *c, ox_buf *out);

#endif
