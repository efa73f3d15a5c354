/*
 * ox_secret.h - reading secrets (passwords, bearer tokens) from files.
 *
 * Secrets never travel on argv; configs name a file instead. Every program
 * reads such files through this one function so that they are all held to
 * the same rules: at most 4 KiB, no NUL byte, trailing newlines trimmed, and
 * the stack copy wiped.
 */
#ifndef OX_SECRET_H
#define OX_SECRET_H

#include "ox_err.h"

/*
 * Reads the secret in `path` into *out (malloc'ed, the caller frees it and
 * should wipe it). Returns 0, or OX_ECONFIG with a message naming `what`
 * (e.g. the config key) and the path in eb. Never logs. Thread-safe.
 */
int ox_secret_read_file(const char *what, const char *path, char **out, ox_errbuf *eb);

#endif
