/*
 * ox_alloc.h - allocation that aborts on exhaustion: oxbow's one OOM story.
 *
 * Heap exhaustion aborts, in daemons, the CLI and library code alike: these
 * functions and ox_buf's growth print one line and abort(). Running out of
 * memory in a change-capture daemon has no safe partial recovery, and an
 * error path per allocation is code nobody tests (tmux xmalloc, valkey
 * zmalloc). The process restarts (the supervisor) and resumes from the log.
 *
 * OX_ENOMEM remains for two cases only, both of which a caller can act on:
 *  - an allocation whose size comes from outside bytes (a record length read
 *    from disk, a decompressed event, a URL to decode): refusing an absurd
 *    size is an input error, and a corrupt file must not kill the daemon;
 *    such code calls malloc and checks it;
 *  - a resource other than the heap ran out: pthread_create refused a
 *    thread, a client library (libmariadb, zstd, libpq) could not create
 *    its handle.
 * An API documents OX_ENOMEM only when one of these can happen.
 */
#ifndef OX_ALLOC_H
#define OX_ALLOC_H

#include <stddef.h>

void *ox_xmalloc(size_t n);
void *ox_xcalloc(size_t nmemb, size_t size);
void *ox_xrealloc(void *p, size_t n);
char *ox_xstrdup(const char *s);
char *ox_xstrndup(const char *s, size_t n);

#endif
