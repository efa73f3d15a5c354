/* ox_mysql_conn.c - connections, simple statements and error mapping. */
#include "ox_mysql_conn.h"

#include <errmsg.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <mysqld_error.h>
#include <stdio.h>
#include <string.h>

bool ox_mysql_errno_retryable(unsigned int err)
{
    switch (err) {
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_SERVER_LOST_EXTENDED:
    case ER_SERVER_SHUTDOWN:
    case ER_CON_COUNT_ERROR:
    case 1927: /* ER_CONNECTION_KILLED (MariaDB) */
    case ER_NET_READ_ERROR:
    case ER_NET_READ_INTERRUPTED:
    case ER_NET_ERROR_ON_WRITE:
        return true;
    default:
        return false;
    }
}

int ox_mysql_error(MYSQL *m, const ox_source_config *cfg, const char *what, ox_errbuf *eb)
{
    unsigned int no = mysql_errno(m);
    const char *msg = mysql_error(m);
    const char *host = cfg->host ? cfg->host : "localhost";
    const char *user = cfg->user ? cfg->user : "";
    /* After login, MariaDB answers some replication commands it refuses
     * (COM_REGISTER_SLAVE without REPLICATION SLAVE) with 1045 too. */
    if (no == ER_ACCESS_DENIED_ERROR && strcmp(what, "connect") != 0)
        no = ER_SPECIFIC_ACCESS_DENIED_ERROR;
    switch (no) {
    case ER_ACCESS_DENIED_ERROR:
    case ER_ACCESS_DENIED_NO_PASSWORD_ERROR:
        return ox_errf(eb, OX_EAUTH,
                       "authentication failed for user '%s' at %s:%u (wrong password or no such "
                       "user): %s (error %u)",
                       user, host, (unsigned)cfg->port, msg, no);
    case ER_HOST_NOT_PRIVILEGED:
        return ox_errf(eb, OX_EAUTH,
                       "%s:%u does not accept connections from this host: %s (error %u)", host,
                       (unsigned)cfg->port, msg, no);
    case ER_SPECIFIC_ACCESS_DENIED_ERROR:
    case ER_DBACCESS_DENIED_ERROR:
    case ER_TABLEACCESS_DENIED_ERROR:
    case ER_COLUMNACCESS_DENIED_ERROR:
        return ox_errf(eb, OX_EPERM,
                       "missing privilege: user '%s' at %s:%u may not %s: %s (error %u); capture "
                       "needs REPLICATION SLAVE, REPLICATION CLIENT (BINLOG MONITOR) and SELECT",
                       user, host, (unsigned)cfg->port, what, msg, no);
    case ER_MASTER_FATAL_ERROR_READING_BINLOG:
        if (strstr(msg, "first log file") || strstr(msg, "purged") ||
            strstr(msg, "not in the master's binlog") || strstr(msg, "which is not in") ||
            strstr(msg, "have been purged") || strstr(msg, "Could not find"))
            return ox_errf(eb, OX_EGONE,
                           "binlog position no longer on the server (purged binlog?) at %s:%u: "
                           "%s (error %u)",
                           host, (unsigned)cfg->port, msg, no);
        return ox_errf(eb, OX_ERANGE,
                       "the server cannot send the binlog from there (%s:%u): %s (error %u)", host,
                       (unsigned)cfg->port, msg, no);
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_UNKNOWN_HOST:
    case CR_IPSOCK_ERROR:
        return ox_errf(eb, OX_ECONN,
                       "cannot connect to %s:%u (host unreachable or not listening): %s (error %u)",
                       host, (unsigned)cfg->port, msg, no);
    case CR_SSL_CONNECTION_ERROR:
        return ox_errf(eb, OX_ECONN, "TLS connection to %s:%u failed: %s (error %u)", host,
                       (unsigned)cfg->port, msg, no);
    default:
        if (ox_mysql_errno_retryable(no))
            return ox_errf(eb, OX_ECONN,
                           "connection to %s:%u lost while trying to %s: %s (error %u)", host,
                           (unsigned)cfg->port, what, msg, no);
        return ox_errf(eb, OX_EDB, "%s failed at %s:%u: %s (error %u)", what, host,
                       (unsigned)cfg->port, msg, no);
    }
}

/* TCP keepalive sized from the heartbeat period, so that a peer that died
 * without closing the connection (host down, cable cut) is noticed by the
 * kernel in about ox_source_dead_after_ms too, also where reads block (TLS).
 * Best effort: a failure leaves the dead-link rule of the poll loop. */
static void set_keepalive(MYSQL *m, const ox_source_config *cfg)
{
    int fd = (int)mysql_get_socket(m);
    if (fd < 0)
        return;
    int hb = cfg->heartbeat_ms > 0 ? cfg->heartbeat_ms : 10000;
    int64_t dead = ox_source_dead_after_ms(hb);
    int on = 1, idle = (hb + 999) / 1000, intvl = 1, cnt = (int)((dead - hb + 999) / 1000);
    if (cnt < 1)
        cnt = 1;
    unsigned int user_timeout = (unsigned int)(dead + 5000);
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
    /* Unacknowledged sends (a dump request to a vanished host) give up too. */
    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof user_timeout);
}

int ox_mysql_connect(const ox_source_config *cfg, int read_timeout_s, MYSQL **out, ox_errbuf *eb)
{
    *out = NULL;
    MYSQL *m = mysql_init(NULL);
    if (!m)
        return ox_errf(eb, OX_ENOMEM, "mysql_init failed");
    unsigned int ct = cfg->connect_timeout_s > 0 ? (unsigned)cfg->connect_timeout_s : 10;
    mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
    if (read_timeout_s > 0) {
        unsigned int rt = (unsigned)read_timeout_s;
        mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &rt);
        mysql_optionsv(m, MYSQL_OPT_WRITE_TIMEOUT, &rt);
    }
    unsigned int proto = MYSQL_PROTOCOL_TCP;
    mysql_optionsv(m, MYSQL_OPT_PROTOCOL, &proto);
    mysql_optionsv(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    /* Never read option files: the settings come from the config only. */
    if (cfg->tls_ca || cfg->tls_required) {
        my_bool on = 1;
        if (cfg->tls_ca)
            mysql_optionsv(m, MYSQL_OPT_SSL_CA, cfg->tls_ca);
        mysql_optionsv(m, MYSQL_OPT_SSL_ENFORCE, &on);
        if (cfg->tls_ca)
            mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &on);
    } else {
        my_bool off = 0;
        mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &off);
    }
    const char *host = cfg->host ? cfg->host : "127.0.0.1";
    if (!mysql_real_connect(m, host, cfg->user ? cfg->user : "", cfg->password ? cfg->password : "",
                            NULL, cfg->port ? cfg->port : 3306, NULL, 0)) {
        int rc = ox_mysql_error(m, cfg, "connect", eb);
        mysql_close(m);
        return rc;
    }
    set_keepalive(m, cfg);
    *out = m;
    return 0;
}

int ox_mysql_exec(MYSQL *m, const ox_source_config *cfg, const char *sql, ox_errbuf *eb)
{
    if (mysql_real_query(m, sql, strlen(sql)) != 0)
        return ox_mysql_error(m, cfg, sql, eb);
    MYSQL_RES *r = mysql_store_result(m);
    if (r)
        mysql_free_result(r);
    else if (mysql_field_count(m) != 0)
        return ox_mysql_error(m, cfg, sql, eb);
    return 0;
}

int ox_mysql_query_value(MYSQL *m, const ox_source_config *cfg, const char *sql, char *buf,
                         size_t cap, ox_errbuf *eb)
{
    if (cap)
        buf[0] = '\0';
    if (mysql_real_query(m, sql, strlen(sql)) != 0)
        return ox_mysql_error(m, cfg, sql, eb);
    MYSQL_RES *r = mysql_store_result(m);
    if (!r)
        return ox_mysql_error(m, cfg, sql, eb);
    int rc = 0;
    MYSQL_ROW row = mysql_fetch_row(r);
    if (!row) {
        rc = ox_errf(eb, OX_ENOENT, "%s: no row", sql);
    } else if (row[0] && cap) {
        snprintf(buf, cap, "%s", row[0]);
    }
    mysql_free_result(r);
    return rc;
}

bool ox_mysql_is_mariadb(MYSQL *m)
{
    const char *v = mysql_get_server_info(m);
    return v && strstr(v, "MariaDB") != NULL;
}
