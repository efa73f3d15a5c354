/*
 * ox_tail.h - the end of a file, read without reading the whole file (the
 * console's log views: the CM's own store logs, the supervisor's /v1/log).
 */
#ifndef OX_TAIL_H
#define OX_TAIL_H

#include <stddef.h>

/* Reads at most `max` bytes from the end of the regular file at `path`
 * (symlinks refused: O_NOFOLLOW). Returns a malloc'd, NUL-terminated buffer
 * and its length in *len, or NULL with errno set (EINVAL: not a regular
 * file). Never logs. Thread-safe. */
char *ox_file_tail(const char *path, size_t max, size_t *len);

#endif
