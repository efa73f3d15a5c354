/*
 * ox_store.h - the store daemon: capture -> change log -> subscribers.
 *
 * ox_store_run is the whole daemon (docs/store.md): it locks the store
 * directory, opens store.log and the change log (recovering after a crash),
 * starts the HTTP server (status, subscribe) and the capture thread, and
 * returns after *stop becomes non-zero, having stopped cleanly: capture
 * stops and syncs, subscribers get the end of their streams, the log is
 * flushed, fsynced and closed. The caller's signal handlers only set the
 * flags (*stop on SIGTERM/SIGINT, *reopen on SIGHUP).
 */
#ifndef OX_STORE_H
#define OX_STORE_H

#include <signal.h>

#include "ox_err.h"
#include "ox_store_config.h"

/*
 * Runs the store until *stop. Returns 0 after a clean stop, or an OX_E*
 * code with eb filled for a startup failure (directory locked or not
 * writable, log corrupt, port in use). Logs what happens while it runs to
 * <dir>/store.log (and copies warnings and errors to stderr), but not the
 * startup failure it returns: the caller reports that, once (cmd_store.c
 * writes it to stderr and store.log). Call from the main thread: it blocks
 * SIGTERM, SIGINT and SIGHUP in the threads it starts so that the caller's
 * handlers run on the main thread only.
 */
int ox_store_run(const ox_store_config *cfg, volatile sig_atomic_t *stop,
                 volatile sig_atomic_t *reopen, ox_errbuf *eb);

/*
 * For crawler/destroy and `oxbow store --drop-source`: loads the config
 * FILE and asks its source back end to remove what the store created on the
 * source server (PostgreSQL: its replication slot and publication, not
 * ones named in the config). 0 when there was nothing to drop. Never logs.
 */
int ox_store_drop_source(const char *config_path, ox_errbuf *eb);

#endif
