/*
 * ox_mysql_schema_hist.c - the versioned, persistent schema history (format
 * and rules in ox_mysql_schema_hist.h).
 */
#include "ox_mysql_schema_hist.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ox_alloc.h"
#include "ox_buf.h"
#include "ox_crc32c.h"
#include "ox_durable.h"
#include "ox_le.h"

#define HIST_MAGIC      "OXSCHIST"
#define HIST_VERSION    1u
#define HIST_HEADER_LEN 16
#define REC_HEADER_LEN  8
#define PAYLOAD_FIXED   24
#define REC_MAX         (256u << 20) /* a sanity bound on one record */
#define STR_NULL        0xFFFFFFFFu

enum { REC_SNAPSHOT = 1, REC_VERSION = 2 };
enum { E_SERVER_CS = 1, E_DB_PUT, E_DB_DROP, E_TABLE_PUT, E_TABLE_DROP };

struct rec {
    uint8_t kind;
    uint64_t fi, off;
    uint8_t *data; /* the payload */
    size_t len;
};

struct ox_schema_hist {
    char *dir;
    char path[4096];
    unsigned flags;
    int fd;
    bool broken; /* a failed append: the file's tail is unknown */
    bool started;
    bool have_snap; /* the file holds a snapshot */
    struct rec *recs;
    uint32_t nrecs, cap;
    uint32_t count; /* records in the file */
    ox_cat *cat;
};

/* ---- encoding ---- */

static void put_u32(ox_buf *b, uint32_t v)
{
    uint8_t x[4];
    ox_put_le32(x, v);
    ox_buf_put(b, x, 4);
}

static void put_u64(ox_buf *b, uint64_t v)
{
    uint8_t x[8];
    ox_put_le64(x, v);
    ox_buf_put(b, x, 8);
}

static void put_str(ox_buf *b, const char *s)
{
    if (!s) {
        put_u32(b, STR_NULL);
        return;
    }
    size_t n = strlen(s);
    put_u32(b, (uint32_t)n);
    ox_buf_put(b, s, n);
}

static void put_table(ox_buf *b, const ox_cat_table *t)
{
    ox_buf_putc(b, E_TABLE_PUT);
    put_str(b, t->db);
    put_str(b, t->name);
    put_str(b, t->charset);
    ox_buf_putc(b, t->uncertain ? 1 : 0);
    put_u32(b, t->ncols);
    for (uint32_t i = 0; i < t->ncols; i++) {
        const ox_cat_col *c = &t->cols[i];
        put_str(b, c->name);
        put_str(b, c->type);
        put_str(b, c->charset);
        ox_buf_putc(b, (uint8_t)((c->is_text ? 1 : 0) | (c->is_unsigned ? 2 : 0)));
        put_u32(b, c->pkseq);
        put_u32(b, c->nmembers);
        for (uint32_t k = 0; k < c->nmembers; k++)
            put_str(b, c->members[k]);
    }
}

/* Starts a payload; the entry count is patched by end_payload. */
static void begin_payload(ox_buf *b, uint8_t kind, uint64_t fi, uint64_t off)
{
    ox_buf_reset(b);
    ox_buf_putc(b, kind);
    ox_buf_put(b, "\0\0\0", 3);
    put_u32(b, 0);
    put_u64(b, fi);
    put_u64(b, off);
}

static void end_payload(ox_buf *b, uint32_t nentries)
{
    ox_put_le32(b->data + 4, nentries);
}

static void encode_snapshot(ox_buf *b, uint64_t fi, uint64_t off, const ox_cat *cat)
{
    uint32_t n = 0;
    begin_payload(b, REC_SNAPSHOT, fi, off);
    if (ox_cat_server_charset(cat)) {
        ox_buf_putc(b, E_SERVER_CS);
        put_str(b, ox_cat_server_charset(cat));
        n++;
    }
    const char *db, *cs;
    for (uint32_t i = 0; (db = ox_cat_db_at(cat, i, &cs)) != NULL; i++, n++) {
        ox_buf_putc(b, E_DB_PUT);
        put_str(b, db);
        put_str(b, cs);
    }
    const ox_cat_table *t;
    for (uint32_t i = 0; (t = ox_cat_table_at(cat, i)) != NULL; i++, n++)
        put_table(b, t);
    end_payload(b, n);
}

/* The state after a statement of every key it touched. */
static uint32_t encode_version(ox_buf *b, uint64_t fi, uint64_t off, const ox_cat *cat)
{
    uint32_t n = 0;
    begin_payload(b, REC_VERSION, fi, off);
    const char *db, *table;
    for (uint32_t i = 0; ox_cat_journal_at(cat, i, &db, &table); i++, n++) {
        if (table) {
            const ox_cat_table *t = ox_cat_find(cat, db, table);
            if (t) {
                put_table(b, t);
            } else {
                ox_buf_putc(b, E_TABLE_DROP);
                put_str(b, db);
                put_str(b, table);
            }
        } else {
            const char *cs = NULL;
            if (ox_cat_find_db(cat, db, &cs)) {
                ox_buf_putc(b, E_DB_PUT);
                put_str(b, db);
                put_str(b, cs);
            } else {
                ox_buf_putc(b, E_DB_DROP);
                put_str(b, db);
            }
        }
    }
    end_payload(b, n);
    return n;
}

/* ---- decoding ---- */

struct rd {
    const uint8_t *p, *end;
    bool bad;
};

static uint8_t get_u8(struct rd *r)
{
    if (r->bad || r->end - r->p < 1) {
        r->bad = true;
        return 0;
    }
    return *r->p++;
}

static uint32_t get_u32(struct rd *r)
{
    if (r->bad || r->end - r->p < 4) {
        r->bad = true;
        return 0;
    }
    uint32_t v = ox_le32(r->p);
    r->p += 4;
    return v;
}

static uint64_t get_u64(struct rd *r)
{
    if (r->bad || r->end - r->p < 8) {
        r->bad = true;
        return 0;
    }
    uint64_t v = ox_le64(r->p);
    r->p += 8;
    return v;
}

/* A newly allocated string, or NULL (also on error: check r->bad). */
static char *get_str(struct rd *r)
{
    uint32_t n = get_u32(r);
    if (r->bad || n == STR_NULL)
        return NULL;
    if ((size_t)(r->end - r->p) < n || memchr(r->p, 0, n)) {
        r->bad = true;
        return NULL;
    }
    char *s = ox_xstrndup((const char *)r->p, n);
    r->p += n;
    return s;
}

static void free_table(ox_cat_table *t)
{
    for (uint32_t i = 0; i < t->ncols; i++) {
        ox_cat_col *c = &t->cols[i];
        free(c->name);
        free(c->type);
        free(c->charset);
        for (uint32_t k = 0; k < c->nmembers; k++)
            free(c->members[k]);
        free(c->members);
    }
    free(t->cols);
    free(t->db);
    free(t->name);
    free(t->charset);
}

static bool get_table(struct rd *r, ox_cat *cat)
{
    ox_cat_table t;
    memset(&t, 0, sizeof t);
    t.db = get_str(r);
    t.name = get_str(r);
    t.charset = get_str(r);
    t.uncertain = get_u8(r) != 0;
    uint32_t n = get_u32(r);
    /* Each column takes at least 21 bytes: a count beyond that is corrupt
     * (and must not size an allocation). */
    if (r->bad || !t.db || !t.name || n > (size_t)(r->end - r->p) / 21) {
        r->bad = true;
        free_table(&t);
        return false;
    }
    t.cols = ox_xcalloc(n ? n : 1, sizeof *t.cols);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        ox_cat_col *c = &t.cols[i];
        t.ncols = i + 1;
        c->name = get_str(r);
        c->type = get_str(r);
        c->charset = get_str(r);
        uint8_t fl = get_u8(r);
        c->is_text = (fl & 1) != 0;
        c->is_unsigned = (fl & 2) != 0;
        c->pkseq = get_u32(r);
        uint32_t m = get_u32(r);
        if (r->bad || !c->name || m > (size_t)(r->end - r->p) / 4) {
            r->bad = true;
            break;
        }
        c->members = ox_xcalloc(m ? m : 1, sizeof *c->members);
        for (uint32_t k = 0; k < m && !r->bad; k++) {
            c->members[k] = get_str(r);
            c->nmembers = k + 1;
            if (!c->members[k])
                r->bad = true;
        }
    }
    if (!r->bad)
        ox_cat_put_table(cat, &t);
    free_table(&t);
    return !r->bad;
}

/* Applies a record's payload to cat (a snapshot first empties it: the
 * caller passes a fresh catalog). Returns false if it does not parse. */
static bool apply_payload(const uint8_t *p, size_t len, ox_cat *cat)
{
    struct rd r = {p, p + len, false};
    uint8_t kind = get_u8(&r);
    r.p += 3;
    if (len < PAYLOAD_FIXED || (kind != REC_SNAPSHOT && kind != REC_VERSION))
        return false;
    uint32_t n = get_u32(&r);
    get_u64(&r);
    get_u64(&r);
    for (uint32_t i = 0; i < n && !r.bad; i++) {
        uint8_t e = get_u8(&r);
        char *a = NULL, *b = NULL;
        switch (e) {
        case E_SERVER_CS:
            a = get_str(&r);
            if (!r.bad)
                ox_cat_set_server_charset(cat, a);
            break;
        case E_DB_PUT:
            a = get_str(&r);
            b = get_str(&r);
            if (!r.bad && a)
                ox_cat_put_db(cat, a, b);
            else
                r.bad = true;
            break;
        case E_DB_DROP:
            a = get_str(&r);
            if (!r.bad && a)
                ox_cat_drop_db(cat, a, false);
            else
                r.bad = true;
            break;
        case E_TABLE_PUT:
            get_table(&r, cat);
            break;
        case E_TABLE_DROP:
            a = get_str(&r);
            b = get_str(&r);
            if (!r.bad && a && b)
                ox_cat_drop_table(cat, a, b);
            else
                r.bad = true;
            break;
        default:
            r.bad = true;
        }
        free(a);
        free(b);
    }
    return !r.bad && r.p == r.end;
}

/* ---- the file ---- */

static void make_header(uint8_t h[HIST_HEADER_LEN])
{
    memcpy(h, HIST_MAGIC, 8);
    ox_put_le32(h + 8, HIST_VERSION);
    ox_put_le32(h + 12, ox_crc32c(0, h, 12));
}

static void frame(ox_buf *out, const ox_buf *payload)
{
    put_u32(out, (uint32_t)payload->len);
    put_u32(out, ox_crc32c(0, payload->data, payload->len));
    ox_buf_put(out, payload->data, payload->len);
}

static void add_rec(ox_schema_hist *h, const uint8_t *p, size_t len)
{
    if (h->nrecs == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 16;
        h->recs = ox_xrealloc(h->recs, h->cap * sizeof *h->recs);
    }
    struct rec *r = &h->recs[h->nrecs++];
    r->kind = p[0];
    if (r->kind == REC_SNAPSHOT)
        h->have_snap = true;
    r->fi = ox_le64(p + 8);
    r->off = ox_le64(p + 16);
    r->data = ox_xmalloc(len ? len : 1);
    memcpy(r->data, p, len);
    r->len = len;
}

static void drop_recs(ox_schema_hist *h)
{
    for (uint32_t i = 0; i < h->nrecs; i++)
        free(h->recs[i].data);
    h->nrecs = 0;
}

static int read_all(int fd, const char *path, ox_buf *out, ox_errbuf *eb)
{
    for (;;) {
        ox_buf_grow(out, 65536);
        ssize_t n = read(fd, out->data + out->len, out->cap - out->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return ox_errf(eb, ox_err_from_errno(errno), "read %s: %s", path, strerror(errno));
        if (n == 0)
            return 0;
        out->len += (size_t)n;
    }
}

/* Parses the file's bytes into h->recs; *good is the length of the valid
 * prefix (a torn last record is cut off by the caller). */
static int parse_file(ox_schema_hist *h, const uint8_t *p, size_t n, size_t *good, ox_errbuf *eb)
{
    uint8_t hdr[HIST_HEADER_LEN];
    make_header(hdr);
    if (n < HIST_HEADER_LEN || memcmp(p, hdr, 8) != 0)
        return ox_errf(eb, OX_ECORRUPT, "%s: not a schema history (bad magic)", h->path);
    if (ox_le32(p + 12) != ox_crc32c(0, p, 12))
        return ox_errf(eb, OX_ECORRUPT, "%s: bad header checksum", h->path);
    if (ox_le32(p + 8) != HIST_VERSION)
        return ox_errf(eb, OX_EUNSUPP, "%s: schema history version %u is not supported", h->path,
                       ox_le32(p + 8));
    size_t off = HIST_HEADER_LEN;
    while (off < n) {
        size_t left = n - off;
        if (left < REC_HEADER_LEN)
            break; /* torn */
        uint32_t len = ox_le32(p + off);
        uint32_t crc = ox_le32(p + off + 4);
        if (len > REC_MAX || len < PAYLOAD_FIXED)
            return ox_errf(eb, OX_ECORRUPT, "%s offset %zu: bad record length %u", h->path, off,
                           len);
        if (left - REC_HEADER_LEN < len)
            break; /* torn */
        const uint8_t *pl = p + off + REC_HEADER_LEN;
        bool last = off + REC_HEADER_LEN + len == n;
        if (ox_crc32c(0, pl, len) != crc) {
            if (last)
                break; /* torn while appending: the DDL is delivered again */
            return ox_errf(eb, OX_ECORRUPT, "%s offset %zu: record checksum mismatch", h->path,
                           off);
        }
        ox_cat *check = ox_cat_create();
        bool ok = apply_payload(pl, len, check);
        ox_cat_free(check);
        if (!ok)
            return ox_errf(eb, OX_ECORRUPT, "%s offset %zu: record does not parse", h->path, off);
        add_rec(h, pl, len);
        off += REC_HEADER_LEN + len;
    }
    *good = off;
    return 0;
}

int ox_schema_hist_open(const char *dir, unsigned flags, ox_schema_hist **out, ox_errbuf *eb)
{
    *out = NULL;
    ox_schema_hist *h = ox_xcalloc(1, sizeof *h);
    h->dir = ox_xstrdup(dir);
    h->flags = flags;
    h->fd = -1;
    ox_buf data = {0};
    int rc = 0;
    snprintf(h->path, sizeof h->path, "%s/%s", dir, OX_SCHEMA_HIST_FILE);
    bool rdonly = (flags & OX_SCHEMA_HIST_RDONLY) != 0;
    if (rdonly) {
        h->broken = true; /* refuses appends */
        h->fd = open(h->path, O_RDONLY | O_CLOEXEC);
        if (h->fd < 0) {
            rc = ox_errf(eb, errno == ENOENT ? OX_ENOENT : ox_err_from_errno(errno), "open %s: %s",
                         h->path, strerror(errno));
            goto fail;
        }
        size_t good = 0;
        if ((rc = read_all(h->fd, h->path, &data, eb)) != 0 ||
            (rc = parse_file(h, data.data, data.len, &good, eb)) != 0)
            goto fail;
        h->count = h->nrecs;
        h->cat = ox_cat_create();
        ox_buf_free(&data);
        *out = h;
        return 0;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        rc = ox_errf(eb, ox_err_from_errno(errno), "mkdir %s: %s", dir, strerror(errno));
        goto fail;
    }
    h->fd = open(h->path, O_RDWR | O_CLOEXEC);
    if (h->fd < 0 && errno == ENOENT) {
        uint8_t hdr[HIST_HEADER_LEN];
        make_header(hdr);
        if ((rc = ox_durable_create(dir, OX_SCHEMA_HIST_FILE, hdr, sizeof hdr, flags, &h->fd,
                                    eb)) != 0)
            goto fail;
    } else if (h->fd < 0) {
        rc = ox_errf(eb, ox_err_from_errno(errno), "open %s: %s", h->path, strerror(errno));
        goto fail;
    } else {
        size_t good = 0;
        if ((rc = read_all(h->fd, h->path, &data, eb)) != 0 ||
            (rc = parse_file(h, data.data, data.len, &good, eb)) != 0)
            goto fail;
        if (good < data.len && (rc = ox_durable_truncate(h->fd, good, flags, h->path, eb)) != 0)
            goto fail;
    }
    if (lseek(h->fd, 0, SEEK_END) < 0) {
        rc = ox_errf(eb, ox_err_from_errno(errno), "lseek %s: %s", h->path, strerror(errno));
        goto fail;
    }
    h->count = h->nrecs;
    h->cat = ox_cat_create();
    ox_buf_free(&data);
    *out = h;
    return 0;
fail:
    ox_buf_free(&data);
    ox_schema_hist_close(h);
    return rc;
}

void ox_schema_hist_close(ox_schema_hist *h)
{
    if (!h)
        return;
    if (h->fd >= 0)
        close(h->fd);
    drop_recs(h);
    free(h->recs);
    ox_cat_free(h->cat);
    free(h->dir);
    free(h);
}

bool ox_schema_hist_empty(const ox_schema_hist *h)
{
    return !h->have_snap;
}

bool ox_schema_hist_started(const ox_schema_hist *h)
{
    return h->started;
}

const ox_cat *ox_schema_hist_catalog(const ox_schema_hist *h)
{
    return h->cat;
}

uint32_t ox_schema_hist_records(const ox_schema_hist *h)
{
    return h->count;
}

static int append(ox_schema_hist *h, const ox_buf *payload, ox_errbuf *eb)
{
    if (h->broken)
        return ox_errf(eb, OX_EIO, "%s: an earlier write failed; reopen the history", h->path);
    ox_buf rec = {0};
    frame(&rec, payload);
    int rc = ox_durable_write(h->fd, rec.data, rec.len, h->path, eb);
    if (rc == 0 && !(h->flags & OX_DURABLE_NOSYNC))
        rc = ox_durable_fdatasync(h->fd, h->path, eb);
    ox_buf_free(&rec);
    if (rc != 0) {
        h->broken = true;
        return rc;
    }
    h->count++;
    return 0;
}

int ox_schema_hist_snapshot(ox_schema_hist *h, uint64_t file_idx, uint64_t offset, ox_cat *cat,
                            ox_errbuf *eb)
{
    ox_buf b = {0};
    encode_snapshot(&b, file_idx, offset, cat);
    int rc = append(h, &b, eb);
    if (rc == 0)
        h->have_snap = true;
    if (rc == 0 && !h->started)
        add_rec(h, b.data, b.len);
    if (rc == 0 && h->started) {
        ox_cat_free(h->cat);
        h->cat = cat;
        cat = NULL;
    }
    ox_cat_free(cat);
    ox_buf_free(&b);
    return rc;
}

static bool key_le(uint64_t fa, uint64_t oa, uint64_t fb, uint64_t ob)
{
    return fa < fb || (fa == fb && oa <= ob);
}

/* Replaces the file with a header and the given records, atomically. */
static int rewrite(ox_schema_hist *h, const ox_buf *payloads, uint32_t n, ox_errbuf *eb)
{
    ox_buf all = {0};
    uint8_t hdr[HIST_HEADER_LEN];
    make_header(hdr);
    ox_buf_put(&all, hdr, sizeof hdr);
    for (uint32_t i = 0; i < n; i++)
        frame(&all, &payloads[i]);
    int fd = -1;
    int rc = ox_durable_create(h->dir, OX_SCHEMA_HIST_FILE, all.data, all.len,
                               h->flags & OX_DURABLE_NOSYNC, &fd, eb);
    ox_buf_free(&all);
    if (rc != 0) {
        h->broken = true;
        return rc;
    }
    if (lseek(fd, 0, SEEK_END) < 0) {
        rc = ox_errf(eb, ox_err_from_errno(errno), "lseek %s: %s", h->path, strerror(errno));
        close(fd);
        h->broken = true;
        return rc;
    }
    close(h->fd);
    h->fd = fd;
    h->count = n;
    return 0;
}

int ox_schema_hist_start(ox_schema_hist *h, uint64_t file_idx, uint64_t offset, ox_errbuf *eb)
{
    if (h->started)
        return 0;
    /* The last snapshot at or before the start, else the first one. */
    int snap = -1;
    for (uint32_t i = 0; i < h->nrecs; i++) {
        const struct rec *r = &h->recs[i];
        if (r->kind != REC_SNAPSHOT)
            continue;
        if (snap < 0 || key_le(r->fi, r->off, file_idx, offset))
            snap = (int)i;
    }
    ox_cat *cat = ox_cat_create();
    uint32_t keep = 0, versions = 0;
    if (snap >= 0) {
        apply_payload(h->recs[snap].data, h->recs[snap].len, cat);
        keep = (uint32_t)snap + 1;
        for (uint32_t i = keep; i < h->nrecs; i++) {
            const struct rec *r = &h->recs[i];
            /* A version is in force after its DDL event: strictly before
             * the start. */
            if (r->kind != REC_VERSION || key_le(file_idx, offset, r->fi, r->off))
                break;
            apply_payload(r->data, r->len, cat);
            keep = i + 1;
            versions++;
        }
    }
    ox_cat_free(h->cat);
    h->cat = cat;
    ox_cat_journal_reset(cat);
    int rc = 0;
    if (h->flags & OX_SCHEMA_HIST_RDONLY) {
        /* Look, don't touch. */
    } else if (versions > OX_SCHEMA_HIST_COMPACT) {
        /* Everything before the start folds into one snapshot there. */
        ox_buf b = {0};
        encode_snapshot(&b, file_idx, offset, cat);
        rc = rewrite(h, &b, 1, eb);
        ox_buf_free(&b);
    } else if (keep < h->nrecs || (snap > 0)) {
        /* Later versions are re-delivered by the stream; earlier snapshots
         * are never needed again. */
        uint32_t from = snap > 0 ? (uint32_t)snap : 0;
        ox_buf *p = ox_xcalloc(keep - from ? keep - from : 1, sizeof *p);
        for (uint32_t i = from; i < keep; i++)
            ox_buf_put(&p[i - from], h->recs[i].data, h->recs[i].len);
        rc = rewrite(h, p, keep - from, eb);
        for (uint32_t i = from; i < keep; i++)
            ox_buf_free(&p[i - from]);
        free(p);
    }
    drop_recs(h);
    if (rc == 0)
        h->started = true;
    return rc;
}

int ox_schema_hist_apply(ox_schema_hist *h, uint64_t file_idx, uint64_t offset,
                         const ox_ddl_stmt *s, int *effect, ox_errbuf *eb)
{
    if (!h->started)
        return ox_errf(eb, OX_ESTATE, "schema history not started");
    ox_cat_journal_reset(h->cat);
    int eff = ox_cat_apply(h->cat, s);
    if (effect)
        *effect = eff;
    ox_buf b = {0};
    uint32_t n = encode_version(&b, file_idx, offset, h->cat);
    ox_cat_journal_reset(h->cat);
    int rc = n ? append(h, &b, eb) : 0;
    ox_buf_free(&b);
    return rc;
}
