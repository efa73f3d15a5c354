/*
 * ox_slog.h - the store's own log file (store.log in the store directory).
 *
 * One line per message: "2026-11-25 15:04:18.123 INFO  text\n", UTC. Lines
 * below the configured level are dropped. ox_slog_reopen closes and reopens
 * the file (after logrotate moved it; the daemon calls it when SIGHUP set
 * its flag). Messages at warn and above are also copied to stderr when
 * `to_stderr` is set. All functions are thread-safe.
 */
#ifndef OX_SLOG_H
#define OX_SLOG_H

#include "ox_err.h"

typedef struct ox_slog ox_slog;

/* Opens (appending, creating mode 0640) `path`. *out owned by the caller. */
int ox_slog_open(const char *path, int level, int to_stderr, ox_slog **out, ox_errbuf *eb);

/* Writes one line if level >= the configured level. NULL log: no-op. */
void ox_slog_printf(ox_slog *l, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reopens the file; on failure keeps writing to the old descriptor. */
int ox_slog_reopen(ox_slog *l, ox_errbuf *eb);

/* Closes; NULL is a no-op. */
void ox_slog_close(ox_slog *l);

#endif
