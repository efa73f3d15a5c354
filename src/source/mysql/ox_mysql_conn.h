/*
 * ox_mysql_conn.h - libmariadb connections for the MySQL/MariaDB source.
 *
 * One place that opens a connection with the source's settings (timeouts,
 * TLS), runs the few SQL statements capture needs, and turns server and
 * client error numbers into OX_E* codes with a message that says what to fix
 * (wrong password, missing privilege, purged binlog, unreachable host). These
 * messages end up in the store's errMsg, so they name the host and the user.
 *
 * Thread: a connection is used by one thread at a time. Nothing here logs.
 */
#ifndef OX_MYSQL_CONN_H
#define OX_MYSQL_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include <mysql.h>

#include "ox_err.h"
#include "ox_source.h"

/*
 * Opens a connection to cfg->host:cfg->port as cfg->user. read_timeout_s > 0
 * bounds every blocking read. Returns 0 and *out (free with mysql_close), or
 * OX_EAUTH (wrong user/password), OX_ECONN (unreachable, refused, TLS
 * failure), OX_EPERM, OX_ECONFIG with eb saying which.
 */
int ox_mysql_connect(const ox_source_config *cfg, int read_timeout_s, MYSQL **out, ox_errbuf *eb);

/*
 * Maps the connection's last error to an OX_E* code and fills eb with
 * "<what>: <server message> (error N)" plus a hint for the well-known cases.
 * Returns the code.
 */
int ox_mysql_error(MYSQL *m, const ox_source_config *cfg, const char *what, ox_errbuf *eb);

/* True for client errors that mean the connection is gone (server restart,
 * network drop, read timeout), so reconnecting may help. */
bool ox_mysql_errno_retryable(unsigned int err);

/* Runs one statement that returns no rows. Returns 0 or an OX_E* code. */
int ox_mysql_exec(MYSQL *m, const ox_source_config *cfg, const char *sql, ox_errbuf *eb);

/*
 * Runs a query returning one row; copies column 0 into buf (NUL-terminated,
 * "" for NULL). Returns 0, OX_ENOENT for no row, or an OX_E* code.
 */
int ox_mysql_query_value(MYSQL *m, const ox_source_config *cfg, const char *sql, char *buf,
                         size_t cap, ox_errbuf *eb);

/* True if the server says it is MariaDB (version string). */
bool ox_mysql_is_mariadb(MYSQL *m);

#endif
