/*
 * ox_alloc.h - allocation that aborts on exhaustion.
 *
 * Daemons and the CLI use these: running out of memory in a change-capture
 * daemon has no safe partial recovery, so we stop loudly (tmux xmalloc, valkey
 * zmalloc). Library code that must report OX_ENOMEM instead uses malloc.
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
