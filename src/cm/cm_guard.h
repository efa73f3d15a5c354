/*
 * cm_guard.h - the CM's listening socket and request-head guard (cm_guard.c).
 *
 * The guard accepts every connection itself and hands it to libmicrohttpd
 * (MHD_add_connection) only once the request's head (request line and
 * headers) has arrived whole and within CM_GUARD_MAX_HEAD bytes and
 * CM_GUARD_MAX_LINES lines. A larger head is answered here, in the API's JSON
 * error shape (414 when the request line alone is too long, else 431),
 * instead of by libmicrohttpd's built-in HTML page, which 0.9.75 gives for a
 * head larger than its per-connection memory and offers no hook to replace.
 * That also lets the connection memory be small: it never has to hold more
 * than a head the guard let through.
 *
 * Connections waiting for their head count against the same limits as the
 * server's: at most max_conns in all, per_ip from one address, and one
 * silent for timeout_s is closed.
 */
#ifndef OX_CM_GUARD_H
#define OX_CM_GUARD_H

#include <netinet/in.h>
#include <stdint.h>

#include <microhttpd.h>

#include "ox_err.h"

#define CM_GUARD_MAX_HEAD  (16u << 10)
#define CM_GUARD_MAX_LINES 100

typedef struct cm_guard cm_guard;

/* Listens on `sa` (port 0: an ephemeral one) and starts the guard's thread,
 * which hands complete heads to `mhd` (started with MHD_USE_NO_LISTEN_SOCKET).
 * Returns 0 or OX_EIO with eb set; does not log. */
int cm_guard_start(struct MHD_Daemon *mhd, const struct sockaddr_in *sa, unsigned max_conns,
                   unsigned per_ip, unsigned timeout_s, cm_guard **out, ox_errbuf *eb);

/* The port it listens on (the ephemeral one when started with port 0). */
uint16_t cm_guard_port(const cm_guard *g);

/* Stops the thread, closes the listening socket and every connection still
 * waiting for its head. cm_guard_stop(NULL) is a no-op. */
void cm_guard_stop(cm_guard *g);

#endif
