/*
 * ox_binlog_file.c - decoding binlog and relay-log files.
 *
 * File layout: the 4-byte magic 0xfe 'b' 'i' 'n', then events back to back
 * (each carries its own length in the header). The file is streamed through
 * one buffer of 1 MiB (grown only for an event larger than that), so memory
 * stays flat whatever the file size. A path ending in ".gz" is read through
 * zlib. Record positions are offsets in the (uncompressed) file.
 */
#include "ox_binlog_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "ox_alloc.h"

#define CHUNK         (1u << 20)
#define MAX_EVENT_LEN ((size_t)1 << 31)

typedef struct reader {
    int fd;
    gzFile gz;
    uint8_t *buf;
    size_t cap, start, end; /* valid bytes are buf[start, end) */
    bool eof;
} reader;

/* Reads more bytes so that at least `need` are buffered (or EOF). */
static int fill(reader *r, size_t need)
{
    if (r->end - r->start >= need)
        return 0;
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
    r.cap = CHUNK;
    r.buf = ox_xmalloc(r.cap);

    uint64_t pos = 0;
    if ((rc = fill(&r, 4)) != 0) {
        ox_errf(eb, rc, "%s offset 0: read error", path);
        goto done;
    }
    if (r.end < 4 || memcmp(r.buf,
                            "\xfe"
                            "bin",
                            4) != 0) {
        rc = ox_errf(eb, OX_ECORRUPT, "%s offset 0: not a binlog file (bad magic)", path);
        goto done;
    }
    r.start = 4;
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
    free(r.buf);
    if (r.gz)
        gzclose(r.gz);
    if (r.fd >= 0)
        close(r.fd);
    return rc;
}
