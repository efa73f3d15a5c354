/*
 * ox_binlog_file.c - decoding binlog and relay-log files.
 *
 * File layout: the 4-byte magic 0xfe 'b' 'i' 'n', then events back to back
 * (each carries its own length in the header). The file is streamed through
 * buffers of 1 MiB (grown only for an event larger than that), so memory
 * stays flat whatever the file size. A plain file is read ahead by a helper
 * thread into a second buffer while the decoder works on the first (the
 * kernel's copy of the file then runs on another core); the buffers swap,
 * the few bytes of an event cut by the chunk boundary being copied in front
 * of the new chunk. A path ending in ".gz" is read through zlib, in the
 * calling thread. Record positions are offsets in the (uncompressed) file.
 */
#include "ox_binlog_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "ox_alloc.h"

#define CHUNK         (1u << 20)
#define MAX_EVENT_LEN ((size_t)1 << 31)

#define HEADROOM ((size_t)1 << 16) /* room before a read-ahead chunk for a cut event */

/* The read-ahead thread's state. `want` hands `spare` to the thread, which
 * fills spare[HEADROOM, HEADROOM + got) and sets `ready`; until then the
 * caller does not touch spare. */
typedef struct prefetch {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int fd;
    uint8_t *spare;
    size_t spare_cap; /* >= HEADROOM + CHUNK */
    size_t got;
    int err; /* errno of a failed read, else 0 */
    bool want, ready, eof, quit;
} prefetch;

typedef struct reader {
    int fd;
    gzFile gz;
    uint8_t *buf;
    size_t cap, start, end; /* valid bytes are buf[start, end) */
    bool eof;
    prefetch *pf; /* NULL: read in the calling thread */
} reader;

static void *prefetch_main(void *arg)
{
    prefetch *pf = arg;
    pthread_mutex_lock(&pf->mu);
    for (;;) {
        while (!pf->want && !pf->quit)
            pthread_cond_wait(&pf->cv, &pf->mu);
        if (pf->quit)
            break;
        uint8_t *dst = pf->spare + HEADROOM;
        pthread_mutex_unlock(&pf->mu);
        size_t got = 0;
        int err = 0;
        bool eof = false;
        while (got < CHUNK) {
            ssize_t n = read(pf->fd, dst + got, CHUNK - got);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                err = errno;
                break;
            }
            if (n == 0) {
                eof = true;
                break;
            }
            got += (size_t)n;
        }
        pthread_mutex_lock(&pf->mu);
        pf->got = got;
        pf->err = err;
        pf->eof = eof || err;
        pf->want = false;
        pf->ready = true;
        pthread_cond_broadcast(&pf->cv);
    }
    pthread_mutex_unlock(&pf->mu);
    return NULL;
}

/* Starts the read-ahead of r's file; on failure r reads synchronously. */
static void prefetch_start(reader *r)
{
    prefetch *pf = calloc(1, sizeof *pf);
    if (pf == NULL)
        return;
    pf->fd = r->fd;
    pf->spare_cap = HEADROOM + CHUNK;
    pf->spare = ox_xmalloc(pf->spare_cap);
    pf->want = true;
    pthread_mutex_init(&pf->mu, NULL);
    pthread_cond_init(&pf->cv, NULL);
    if (pthread_create(&pf->th, NULL, prefetch_main, pf) != 0) {
        pthread_mutex_destroy(&pf->mu);
        pthread_cond_destroy(&pf->cv);
        free(pf->spare);
        free(pf);
        return;
    }
    r->pf = pf;
}

static void prefetch_stop(reader *r)
{
    prefetch *pf = r->pf;
    if (pf == NULL)
        return;
    pthread_mutex_lock(&pf->mu);
    pf->quit = true;
    pthread_cond_broadcast(&pf->cv);
    pthread_mutex_unlock(&pf->mu);
    pthread_join(pf->th, NULL);
    pthread_mutex_destroy(&pf->mu);
    pthread_cond_destroy(&pf->cv);
    free(pf->spare);
    free(pf);
    r->pf = NULL;
}

/* fill() with read-ahead: takes the thread's chunk and hands it the
 * buffer just consumed. A cut event of at most HEADROOM bytes is copied in
 * front of the new chunk; a longer one (a big event) gets the new chunk
 * appended to it instead. */
static int fill_ahead(reader *r, size_t need)
{
    prefetch *pf = r->pf;
    while (r->end - r->start < need && !r->eof) {
        pthread_mutex_lock(&pf->mu);
        while (!pf->ready)
            pthread_cond_wait(&pf->cv, &pf->mu);
        pthread_mutex_unlock(&pf->mu);
        if (pf->err)
            return ox_err_from_errno(pf->err);
        size_t left = r->end - r->start, got = pf->got;
        if (left <= HEADROOM) {
            uint8_t *nb = pf->spare;
            size_t ncap = pf->spare_cap;
            memcpy(nb + HEADROOM - left, r->buf + r->start, left);
            pf->spare = r->buf;
            pf->spare_cap = r->cap;
            r->buf = nb;
            r->cap = ncap;
            r->start = HEADROOM - left;
            r->end = HEADROOM + got;
        } else {
            if (r->start > 0) {
                memmove(r->buf, r->buf + r->start, left);
                r->end = left;
                r->start = 0;
            }
            if (r->cap - r->end < got) {
                size_t cap = r->cap;
                while (cap - r->end < got)
                    cap *= 2;
                r->buf = ox_xrealloc(r->buf, cap);
                r->cap = cap;
            }
            memcpy(r->buf + r->end, pf->spare + HEADROOM, got);
            r->end += got;
        }
        pthread_mutex_lock(&pf->mu);
        pf->ready = false;
        if (pf->eof)
            r->eof = true;
        else
            pf->want = true;
        pthread_cond_broadcast(&pf->cv);
        pthread_mutex_unlock(&pf->mu);
    }
    return 0;
}

/* Reads more bytes so that at least `need` are buffered (or EOF). */
static int fill(reader *r, size_t need)
{
    if (r->end - r->start >= need)
        return 0;
    if (r->pf)
        return fill_ahead(r, need);
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    if (need > r->cap) {
        size_t cap = r->cap;
        while (cap < need)
            cap *= 2;
        r->buf = ox_xrealloc(r->buf, cap);
        r->cap = cap;
    }
    while (r->end < need && !r->eof) {
        size_t want = r->cap - r->end;
        ssize_t got;
        if (r->gz) {
            int g = gzread(r->gz, r->buf + r->end, want > (1u << 30) ? (1u << 30) : (unsigned)want);
            if (g < 0)
                return OX_EIO;
            got = g;
        } else {
            got = read(r->fd, r->buf + r->end, want);
            if (got < 0) {
                if (errno == EINTR)
                    continue;
                return ox_err_from_errno(errno);
            }
        }
        if (got == 0)
            r->eof = true;
        r->end += (size_t)got;
    }
    return 0;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

int ox_binlog_decode_file(ox_binlog_decoder *d, const char *path, ox_change_fn fn, void *arg,
                          ox_errbuf *eb)
{
    reader r = {.fd = -1};
    int rc = 0;
    size_t plen = strlen(path);
    char name[512];
    snprintf(name, sizeof name, "%s", base_name(path));
    if (plen > 3 && strcmp(path + plen - 3, ".gz") == 0) {
        name[strlen(name) > 3 ? strlen(name) - 3 : 0] = '\0';
        r.gz = gzopen(path, "rb");
        if (r.gz == NULL)
            return ox_errf(eb, errno ? ox_err_from_errno(errno) : OX_EIO, "%s: cannot open: %s",
                           path, strerror(errno));
        gzbuffer(r.gz, 1u << 18);
    } else {
        r.fd = open(path, O_RDONLY | O_CLOEXEC);
        if (r.fd < 0)
            return ox_errf(eb, ox_err_from_errno(errno), "%s: cannot open: %s", path,
                           strerror(errno));
        posix_fadvise(r.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    }
    ox_binlog_decoder_set_file(d, name);
    d->file_locked = true;
    r.cap = HEADROOM + CHUNK;
    r.buf = ox_xmalloc(r.cap);
    if (r.fd >= 0)
        prefetch_start(&r);
    if (r.pf)
        r.start = r.end = HEADROOM; /* the first chunk arrives by a swap */

    uint64_t pos = 0;
    if ((rc = fill(&r, 4)) != 0) {
        ox_errf(eb, rc, "%s offset 0: read error", path);
        goto done;
    }
    if (r.end - r.start < 4 || memcmp(r.buf + r.start,
                                      "\xfe"
                                      "bin",
                                      4) != 0) {
        rc = ox_errf(eb, OX_ECORRUPT, "%s offset 0: not a binlog file (bad magic)", path);
        goto done;
    }
    r.start += 4;
    pos = 4;
    for (;;) {
        if ((rc = fill(&r, OX_BL_HEADER_LEN)) != 0) {
            ox_errf(eb, rc, "%s offset %" PRIu64 ": read error", path, pos);
            goto done;
        }
        size_t avail = r.end - r.start;
        if (avail == 0)
            break;
        if (avail < OX_BL_HEADER_LEN) {
            rc = ox_errf(eb, OX_ETRUNC,
                         "%s offset %" PRIu64 ": truncated event header (%zu of 19 bytes)", path,
                         pos, avail);
            goto done;
        }
        size_t evlen = (size_t)le_n(r.buf + r.start + 9, 4);
        if (evlen < OX_BL_HEADER_LEN || evlen > MAX_EVENT_LEN) {
            rc = ox_errf(eb, OX_ECORRUPT, "%s offset %" PRIu64 ": bad event length %zu", path, pos,
                         evlen);
            goto done;
        }
        if ((rc = fill(&r, evlen)) != 0) {
            ox_errf(eb, rc, "%s offset %" PRIu64 ": read error", path, pos);
            goto done;
        }
        avail = r.end - r.start;
        if (avail < evlen) {
            rc = ox_errf(eb, OX_ETRUNC,
                         "%s offset %" PRIu64 ": truncated event (type %u, %zu of %zu bytes)", path,
                         pos, r.buf[r.start + 4], avail, evlen);
            goto done;
        }
        rc = ox_binlog_decoder_feed(d, r.buf + r.start, evlen, pos, fn, arg, eb);
        if (rc != 0)
            goto done;
        r.start += evlen;
        pos += evlen;
    }
done:
    d->file_locked = false;
    prefetch_stop(&r);
    free(r.buf);
    if (r.gz)
        gzclose(r.gz);
    if (r.fd >= 0)
        close(r.fd);
    return rc;
}
