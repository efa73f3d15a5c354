/* ox_pg_stream.c - spill and replay of streamed transactions (see ox_pg_stream.h). */
#include "ox_pg_stream.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ox_alloc.h"
#include "ox_buf.h"

/* One entry's header in a spill file. */
struct spill_hdr {
    uint32_t len;
    uint32_t subxid;
    uint64_t lsn;
};
_Static_assert(sizeof(struct spill_hdr) == 16, "spill entry header is 16 bytes");

struct stxn {
    uint32_t xid;
    FILE *f;
    uint64_t first_lsn; /* of its first stream block: the BEGIN's position */
    uint32_t *aborted;  /* aborted subtransactions (sorted at commit) */
    size_t naborted, capaborted;
};

struct ox_pg_stream {
    char *dir;
    struct stxn *t; /* open streamed transactions */
    size_t n, cap;
    bool in_block;
    uint32_t block_xid;
    /* The committed transaction being replayed. */
    bool replaying, begun;
    struct stxn cur;
    ox_pg_stream_msg commit;
    ox_buf body;
};

static void spill_path(const ox_pg_stream *s, uint32_t xid, char *out, size_t n)
{
    snprintf(out, n, "%s/%" PRIu32 ".spill", s->dir, xid);
}

static void txn_drop(ox_pg_stream *s, struct stxn *t)
{
    char path[4096];
    if (t->f)
        fclose(t->f);
    spill_path(s, t->xid, path, sizeof path);
    (void)unlink(path);
    free(t->aborted);
    memset(t, 0, sizeof *t);
}

static void remove_stale(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l > 6 && strcmp(e->d_name + l - 6, ".spill") == 0)
            (void)unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

int ox_pg_stream_create(const char *dir, ox_pg_stream **out, ox_errbuf *eb)
{
    *out = NULL;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return ox_errf(eb, OX_EIO, "mkdir \"%s\": %s", dir, strerror(errno));
    remove_stale(dir);
    ox_pg_stream *s = ox_xcalloc(1, sizeof *s);
    s->dir = ox_xstrdup(dir);
    *out = s;
    return 0;
}

void ox_pg_stream_reset(ox_pg_stream *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        txn_drop(s, &s->t[i]);
    s->n = 0;
    if (s->replaying)
        txn_drop(s, &s->cur);
    s->replaying = s->begun = false;
    s->in_block = false;
}

void ox_pg_stream_free(ox_pg_stream *s)
{
    if (!s)
        return;
    ox_pg_stream_reset(s);
    free(s->t);
    ox_buf_free(&s->body);
    free(s->dir);
    free(s);
}

bool ox_pg_stream_replaying(const ox_pg_stream *s)
{
    return s && s->replaying;
}

bool ox_pg_stream_open(const ox_pg_stream *s)
{
    return s && (s->in_block || s->n > 0 || s->replaying);
}

static struct stxn *txn_find(ox_pg_stream *s, uint32_t xid)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->t[i].xid == xid)
            return &s->t[i];
    return NULL;
}

/* Removes *t from the open set (its resources move to the caller or die). */
static void txn_unlist(ox_pg_stream *s, struct stxn *t)
{
    *t = s->t[--s->n];
}

static int io_error(ox_errbuf *eb, const char *what, const ox_pg_stream *s, uint32_t xid)
{
    int e = errno;
    char path[4096];
    spill_path(s, xid, path, sizeof path);
    return ox_errf(eb, e == ENOSPC ? OX_ENOSPC : OX_EIO, "%s \"%s\": %s", what, path,
                   strerror(e ? e : EIO));
}

static int block_start(ox_pg_stream *s, const ox_pg_stream_msg *m, uint64_t lsn, ox_errbuf *eb)
{
    s->in_block = true;
    s->block_xid = m->xid;
    if (txn_find(s, m->xid))
        return 0;
    if (!m->first) /* its first blocks went to a connection before this one */
        return ox_errf(eb, OX_EPROTO,
                       "LSN %" PRIX64 ": Stream Start of transaction %" PRIu32
                       " continues a stream this connection never saw",
                       lsn, m->xid);
    char path[4096];
    spill_path(s, m->xid, path, sizeof path);
    /* Row data: readable by the store's user only, like the log. */
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w+b") : NULL;
    if (!f) {
        int rc = io_error(eb, "open", s, m->xid);
        if (fd >= 0)
            close(fd);
        return rc;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4;
        s->t = ox_xrealloc(s->t, s->cap * sizeof *s->t);
    }
    struct stxn *t = &s->t[s->n++];
    memset(t, 0, sizeof *t);
    t->xid = m->xid;
    t->f = f;
    t->first_lsn = lsn;
    return 0;
}

static int spill(ox_pg_stream *s, const ox_pg_stream_msg *m, const uint8_t *msg, size_t len,
                 uint64_t lsn, ox_errbuf *eb)
{
    struct stxn *t = txn_find(s, s->block_xid);
    if (!t)
        return ox_errf(eb, OX_EPROTO, "LSN %" PRIX64 ": change outside a known stream", lsn);
    struct spill_hdr h = {.len = (uint32_t)(len - m->body + 1), .subxid = m->xid, .lsn = lsn};
    if (len - m->body + 1 > UINT32_MAX)
        return ox_errf(eb, OX_EPROTO, "LSN %" PRIX64 ": message of %zu bytes", lsn, len);
    if (fwrite(&h, sizeof h, 1, t->f) != 1 || fwrite(msg, 1, 1, t->f) != 1 ||
        fwrite(msg + m->body, 1, len - m->body, t->f) != len - m->body)
        return io_error(eb, "writing", s, t->xid);
    return 0;
}

static int stream_abort(ox_pg_stream *s, const ox_pg_stream_msg *m)
{
    struct stxn *t = txn_find(s, m->xid);
    if (!t)
        return 1; /* nothing of it was streamed to us */
    if (m->subxid == m->xid) {
        txn_drop(s, t);
        txn_unlist(s, t);
        return 1;
    }
    if (t->naborted == t->capaborted) {
        t->capaborted = t->capaborted ? t->capaborted * 2 : 8;
        t->aborted = ox_xrealloc(t->aborted, t->capaborted * sizeof *t->aborted);
    }
    t->aborted[t->naborted++] = m->subxid;
    return 1;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int stream_commit(ox_pg_stream *s, const ox_pg_stream_msg *m, uint64_t lsn, ox_errbuf *eb)
{
    struct stxn *t = txn_find(s, m->xid);
    if (!t)
        return ox_errf(eb, OX_EPROTO,
                       "LSN %" PRIX64 ": Stream Commit of transaction %" PRIu32
                       ", which was never streamed",
                       lsn, m->xid);
    s->cur = *t;
    txn_unlist(s, t);
    if (fflush(s->cur.f) != 0 || fseeko(s->cur.f, 0, SEEK_SET) != 0)
        return io_error(eb, "rewinding", s, s->cur.xid);
    if (s->cur.naborted)
        qsort(s->cur.aborted, s->cur.naborted, sizeof *s->cur.aborted, cmp_u32);
    s->commit = *m;
    s->replaying = true;
    s->begun = false;
    return 1;
}

int ox_pg_stream_feed(ox_pg_stream *s, const uint8_t *msg, size_t len, uint64_t lsn, ox_errbuf *eb)
{
    if (s->replaying)
        return ox_errf(eb, OX_ESTATE, "a streamed transaction is still being replayed");
    ox_pg_stream_msg m;
    int rc = ox_pgoutput_stream_parse(msg, len, s->in_block, lsn, &m, eb);
    if (rc != 0)
        return rc;
    switch (m.kind) {
    case 0:
        return 0;
    case 'S':
        rc = block_start(s, &m, lsn, eb);
        return rc != 0 ? rc : 1;
    case 'E':
        s->in_block = false;
        return 1;
    case 'A':
        return stream_abort(s, &m);
    case 'c':
        return stream_commit(s, &m, lsn, eb);
    case 'O':
        return 1;
    default:
        rc = spill(s, &m, msg, len, lsn, eb);
        return rc != 0 ? rc : 1;
    }
}

/* Reads the next entry into s->body; 1 at the end of the file. */
static int read_entry(ox_pg_stream *s, struct spill_hdr *h, ox_errbuf *eb)
{
    size_t got = fread(h, 1, sizeof *h, s->cur.f);
    if (got == 0 && feof(s->cur.f))
        return 1;
    if (got != sizeof *h || h->len == 0)
        return got == sizeof *h || feof(s->cur.f)
                   ? ox_errf(eb, OX_ECORRUPT, "spill file of transaction %" PRIu32 " is truncated",
                             s->cur.xid)
                   : io_error(eb, "reading", s, s->cur.xid);
    ox_buf_reset(&s->body);
    ox_buf_grow(&s->body, h->len);
    if (fread(s->body.data, 1, h->len, s->cur.f) != h->len)
        return io_error(eb, "reading", s, s->cur.xid);
    s->body.len = h->len;
    return 0;
}

/* Relation and Type messages describe the table for the rest of the
 * transaction even when the subtransaction that sent them aborted. */
static bool skipped(const ox_pg_stream *s, const struct spill_hdr *h, uint8_t kind)
{
    if (kind == 'R' || kind == 'Y' || s->cur.naborted == 0)
        return false;
    return bsearch(&h->subxid, s->cur.aborted, s->cur.naborted, sizeof *s->cur.aborted, cmp_u32) !=
           NULL;
}

int ox_pg_stream_replay(ox_pg_stream *s, ox_pgoutput *dec, size_t max, ox_change_fn fn, void *arg,
                        ox_errbuf *eb)
{
    int rc;
    if (!s->replaying)
        return 0;
    if (!s->begun) {
        s->begun = true;
        if ((rc = ox_pgoutput_begin_streamed(dec, &s->commit, s->cur.first_lsn, fn, arg, eb)) != 0)
            return rc;
    }
    for (size_t i = 0; i < max; i++) {
        struct spill_hdr h;
        rc = read_entry(s, &h, eb);
        if (rc < 0)
            return rc;
        if (rc == 1) {
            txn_drop(s, &s->cur);
            s->replaying = s->begun = false;
            return ox_pgoutput_commit_streamed(dec, &s->commit, fn, arg, eb);
        }
        if (skipped(s, &h, s->body.data[0]))
            continue;
        if ((rc = ox_pgoutput_feed(dec, s->body.data, s->body.len, h.lsn, fn, arg, eb)) != 0)
            return rc;
    }
    return 0;
}
