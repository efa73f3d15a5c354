/*
 * ox_pg_source.c - the PostgreSQL source: connect, check, manage the slot
 * and publication, stream pgoutput, confirm, reconnect. See ox_pg_source.h.
 */
#include "ox_pg_source.h"

#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ox_alloc.h"
#include "ox_filter.h"
#include "ox_pq.h"
#include "ox_pg_stream.h"
#include "ox_pgoutput.h"
#include "ox_time.h"

/* Reconnect backoff (ox_time.h): the figures docs/store.md promises. */
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS   5000
#define POLL_BATCH       8192 /* changes per poll() before returning */
#define STATUS_EVERY_MS  1000
#define BUSY_WAIT_MS     10000 /* how long a slot held by a dying walsender may stay busy */
#define BUSY_GIVE_UP_MS  60000 /* a reconnect finding the slot held by another process */
#define RESTREAM_TRIES   100   /* 50 ms apart: our own walsender exiting */
#define PUB_CHECK_MS     3000  /* how often the publication is compared with the lists */
#define CLOCK_EVERY      64    /* frames between clock reads while data flows */
#define NAP_AFTER        16    /* changes per poll that mean the stream is busy */
#define NAP_MS           1     /* how long a busy stream is left to fill the socket */

/* Microseconds since 2000-01-01, the protocol's clock. */
static int64_t pg_now_us(void)
{
    return ox_time_wall_us() - (int64_t)OX_PG_EPOCH_UNIX * 1000000;
}

struct pg_source {
    struct ox_source base; /* first: ox_source* <-> pg_source* */
    ox_source_config cfg;  /* strings below are our copies */
    char *host, *user, *password, *database, *whitelist, *spill_dir;
    char slot[64], publication[64];
    PGconn *conn;
    ox_pgoutput *dec;
    ox_pg_stream *st; /* streamed transactions (NULL: streaming not requested) */
    /* Streaming is off until this LSN is durable: a transaction the store
     * could not replay exactly is being sent again unstreamed (0: on). */
    uint64_t unstreamed_until;
    uint64_t resends; /* such transactions since open */
    int server_version;

    bool started;
    int64_t skip_before; /* FROM_TIMESTAMP: skip transactions committed earlier */
    bool skipping;       /* inside a skipped transaction */

    uint64_t resume_lsn;    /* end of the last complete transaction delivered */
    uint64_t durable_lsn;   /* what the consumer confirmed */
    uint64_t idle_end;      /* keepalive position seen with nothing open */
    uint64_t wal_end;       /* the server's latest position */
    uint64_t sent_flush;    /* last flush position reported */
    int64_t last_status_ms; /* monotonic */
    int64_t last_rx_ms;
    bool have_lag;

    /* The last fault and its text (ops->fault); kept while the link is down
     * so that the cause, not the reconnect attempts, is what is reported. */
    ox_source_fault fault;
    ox_errbuf fault_why;
    PGconn *cat;            /* plain connection for the publication check */
    int64_t pub_checked_ms; /* monotonic */
    char wal_status[32];    /* the slot's, as of the last check ("" unknown) */

    bool down;
    int64_t down_since_ms, retry_at_ms;
    ox_backoff retry;
    uint32_t attempts;   /* failed reconnect attempts since down */
    uint64_t reconnects; /* since open */

    ox_change_fn fn;
    void *arg;
    uint64_t delivered;
};

static struct pg_source *P(ox_source *s)
{
    return (struct pg_source *)s;
}

/* Records the kind of the error in eb. While the link is down, a failed
 * reconnect (refused, "starting up") does not replace the cause. */
static int note_fault(struct pg_source *p, ox_source_fault kind, int rc, const ox_errbuf *eb)
{
    bool link = kind == OX_SOURCE_FAULT_RESTART || kind == OX_SOURCE_FAULT_PRIMARY_LOST ||
                kind == OX_SOURCE_FAULT_NONE;
    if (p->down && link && p->fault != OX_SOURCE_FAULT_NONE)
        return rc;
    p->fault = kind;
    snprintf(p->fault_why.msg, sizeof p->fault_why.msg, "%s", eb ? eb->msg : "");
    return rc;
}

void ox_pg_default_name(const char *store_name, char *out, size_t n)
{
    char buf[256];
    size_t j = 0;
    uint32_t h = 2166136261u;
    j = (size_t)snprintf(buf, sizeof buf, "oxbow_");
    for (const char *p = store_name ? store_name : ""; *p && j < sizeof buf - 1; p++) {
        char c = *p;
        h = (h ^ (uint8_t)c) * 16777619u;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            c = '_';
        buf[j++] = c;
    }
    buf[j] = '\0';
    if (j > 63) /* NAMEDATALEN - 1: keep it unique with a hash of the whole */
        snprintf(buf + 54, sizeof buf - 54, "_%08x", h);
    snprintf(out, n, "%s", buf);
}

static int valid_ident(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

bool ox_pg_source_lag(ox_source *s, uint64_t *wal_end, uint64_t *confirmed)
{
    struct pg_source *p = P(s);
    if (!p->have_lag)
        return false;
    *wal_end = p->wal_end;
    *confirmed = p->sent_flush;
    return true;
}

static char *dup_or_null(const char *s)
{
    return s ? ox_xstrdup(s) : NULL;
}

static int names_from(const ox_source_config *cfg, char *slot, char *pub, ox_errbuf *eb)
{
    if (cfg->slot && *cfg->slot)
        snprintf(slot, 64, "%s", cfg->slot);
    else
        ox_pg_default_name(cfg->name, slot, 64);
    if (cfg->publication && *cfg->publication)
        snprintf(pub, 64, "%s", cfg->publication);
    else
        ox_pg_default_name(cfg->name, pub, 64);
    if (!valid_ident(slot) || !valid_ident(pub))
        return ox_errf(eb, OX_ECONFIG,
                       "slot and publication names must be 1-63 characters [a-z0-9_] (\"%.80s\", "
                       "\"%.80s\")",
                       slot, pub);
    return 0;
}

static int pk_lookup(void *arg, uint32_t relid, ox_buf *names);

static int pg_open(const ox_source_config *cfg, ox_source **out, ox_errbuf *eb)
{
    *out = NULL;
    if (!cfg || !cfg->user)
        return ox_errf(eb, OX_EINVAL, "postgresql source: a user is required");
    if (!cfg->database || !*cfg->database)
        return ox_errf(eb, OX_ECONFIG, "postgresql source: the database to capture is required");
    int rc = ox_pq_load(eb);
    if (rc != 0)
        return rc;
    struct pg_source *p = ox_xcalloc(1, sizeof *p);
    ox_backoff_init(&p->retry, BACKOFF_FIRST_MS, BACKOFF_MAX_MS);
    if ((rc = names_from(cfg, p->slot, p->publication, eb)) != 0) {
        free(p);
        return rc;
    }
    p->base.ops = &ox_pg_source_ops;
    p->cfg = *cfg;
    p->cfg.host = p->host = ox_xstrdup(cfg->host ? cfg->host : "127.0.0.1");
    p->cfg.user = p->user = ox_xstrdup(cfg->user);
    p->cfg.password = p->password = dup_or_null(cfg->password);
    p->cfg.database = p->database = ox_xstrdup(cfg->database);
    p->cfg.slot = p->slot;
    p->cfg.publication = p->publication;
    p->cfg.name = NULL;
    p->cfg.whitelist = p->whitelist = dup_or_null(cfg->whitelist);
    p->cfg.spill_dir = p->spill_dir = dup_or_null(cfg->spill_dir);
    p->cfg.tls_ca = NULL;
    if (!p->cfg.port)
        p->cfg.port = 5432;
    p->dec = ox_pgoutput_create(p->database);
    ox_pgoutput_set_pk_lookup(p->dec, pk_lookup, p);
    *out = &p->base;
    return 0;
}

static void drop_conn(struct pg_source *p)
{
    if (p->conn)
        PQfinish(p->conn);
    p->conn = NULL;
    if (p->cat)
        PQfinish(p->cat);
    p->cat = NULL;
}

static int send_status(struct pg_source *p, bool reply, ox_errbuf *eb);

static void pg_close(ox_source *s)
{
    if (!s)
        return;
    struct pg_source *p = P(s);
    /* A clean stop reports the last confirmation (best effort). */
    if (p->conn && !p->down && p->started && p->durable_lsn > p->sent_flush) {
        ox_errbuf eb;
        (void)send_status(p, false, &eb);
    }
    drop_conn(p);
    ox_pgoutput_free(p->dec);
    ox_pg_stream_free(p->st);
    free(p->spill_dir);
    if (p->password)
        memset(p->password, 0, strlen(p->password));
    free(p->host);
    free(p->user);
    free(p->password);
    free(p->database);
    free(p->whitelist);
    free(p);
}

/* Maps a failed connection's message to a code (libpq gives no SQLSTATE
 * before the connection exists). */
static int conn_error(const ox_source_config *c, PGconn *conn, ox_errbuf *eb)
{
    const char *m = conn ? PQerrorMessage(conn) : "out of memory";
    int rc = OX_ECONN;
    if (strstr(m, "authentication failed") || strstr(m, "no password supplied") ||
        strstr(m, "no pg_hba.conf entry"))
        rc = OX_EAUTH;
    else if (strstr(m, "must be superuser or replication role") || strstr(m, "permission denied"))
        rc = OX_EPERM;
    else if (strstr(m, "does not exist"))
        rc = OX_ECONFIG;
    char msg[400];
    snprintf(msg, sizeof msg, "%s", m);
    msg[strcspn(msg, "\n")] = '\0';
    if (rc == OX_EPERM)
        return ox_errf(eb, rc,
                       "missing privilege: user '%s' at %s:%u may not stream changes (needs the "
                       "REPLICATION attribute: ALTER ROLE %s REPLICATION): %s",
                       c->user, c->host, (unsigned)c->port, c->user, msg);
    return ox_errf(eb, rc, "%s:%u database %s: %s", c->host, (unsigned)c->port, c->database, msg);
}

static int connect_pg(struct pg_source *p, bool replication, PGconn **out, ox_errbuf *eb)
{
    char port[8], timeout[16];
    snprintf(port, sizeof port, "%u", (unsigned)p->cfg.port);
    snprintf(timeout, sizeof timeout, "%d",
             p->cfg.connect_timeout_s > 0 ? p->cfg.connect_timeout_s : 5);
    /* The walsender renders values with these settings: fix them so that
     * every value has one documented text form (docs/records.md). */
    const char *keys[] = {"host",
                          "port",
                          "user",
                          "password",
                          "dbname",
                          "connect_timeout",
                          "application_name",
                          "client_encoding",
                          "options",
                          replication ? "replication" : NULL,
                          NULL};
    const char *vals[] = {p->host,
                          port,
                          p->user,
                          p->password ? p->password : "",
                          p->database,
                          timeout,
                          "oxbow",
                          "UTF8",
                          "-c datestyle=ISO,YMD -c intervalstyle=postgres -c timezone=UTC "
                          "-c extra_float_digits=1 -c bytea_output=hex",
                          "database",
                          NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 0);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        int rc = conn_error(&p->cfg, c, eb);
        const char *m = c ? PQerrorMessage(c) : "";
        ox_source_fault kind = OX_SOURCE_FAULT_NONE;
        if (rc == OX_EPERM)
            kind = OX_SOURCE_FAULT_PRIVILEGE;
        else if (strstr(m, "shutting down") || strstr(m, "starting up"))
            kind = OX_SOURCE_FAULT_RESTART;
        if (c)
            PQfinish(c);
        return note_fault(p, kind, rc, eb);
    }
    *out = c;
    return 0;
}

/* Maps a failed statement's SQLSTATE to a code, with `what` and the
 * server's message in eb. */
static int result_error(struct pg_source *p, PGresult *r, const char *what, ox_errbuf *eb)
{
    const char *state = r ? PQresultErrorField(r, 'C') : NULL;
    char msg[400];
    snprintf(msg, sizeof msg, "%s", r ? PQresultErrorMessage(r) : PQerrorMessage(p->conn));
    msg[strcspn(msg, "\n")] = '\0';
    int rc = OX_EDB;
    if (!state || strncmp(state, "08", 2) == 0 || strncmp(state, "57", 2) == 0)
        rc = OX_ECONN; /* connection lost, server shutting down or restarting */
    else if (strcmp(state, "42501") == 0)
        rc = OX_EPERM;
    else if (strncmp(state, "28", 2) == 0)
        rc = OX_EAUTH;
    else if (strcmp(state, "55006") == 0)
        rc = OX_EBUSY;
    else if (strcmp(state, "42704") == 0 && strstr(msg, "replication slot"))
        rc = OX_EGONE;
    else if (strcmp(state, "42704") == 0)
        rc = OX_ECONFIG; /* the publication is gone */
    else if (strcmp(state, "55000") == 0 && strstr(msg, "invalidated"))
        rc = OX_EGONE;
    else if (strcmp(state, "55000") == 0)
        rc = OX_ECONFIG; /* wal_level, ... */
    if (rc == OX_EGONE)
        return note_fault(
            p, OX_SOURCE_FAULT_SLOT_LOST,
            ox_errf(eb, rc,
                    "%s: replication slot %s at %s:%u is gone or invalidated (dropped, or it "
                    "fell behind max_slot_wal_keep_size); the store cannot continue without "
                    "losing changes: %s",
                    what, p->slot, p->host, (unsigned)p->cfg.port, msg),
            eb);
    if (rc == OX_EPERM)
        return note_fault(p, OX_SOURCE_FAULT_PRIVILEGE,
                          ox_errf(eb, rc, "missing privilege: %s as user '%s' at %s:%u: %s", what,
                                  p->user, p->host, (unsigned)p->cfg.port, msg),
                          eb);
    ox_source_fault kind = OX_SOURCE_FAULT_NONE;
    if (state && strcmp(state, "42704") == 0 && strstr(msg, "publication"))
        kind = OX_SOURCE_FAULT_PUBLICATION;
    else if (state && strncmp(state, "57P0", 4) == 0)
        kind = OX_SOURCE_FAULT_RESTART; /* admin shutdown, crash shutdown, cannot connect now */
    return note_fault(
        p, kind, ox_errf(eb, rc, "%s at %s:%u: %s", what, p->host, (unsigned)p->cfg.port, msg), eb);
}

/* Runs a statement with text parameters; *out gets the result of a query
 * (caller clears), or NULL for commands. */
static int exec(struct pg_source *p, PGconn *c, const char *sql, int n, const char *const *params,
                PGresult **out, const char *what, ox_errbuf *eb)
{
    PGconn *keep = p->conn;
    p->conn = c;
    PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    int st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    int rc = 0;
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
        rc = result_error(p, r, what, eb);
    p->conn = keep;
    if (rc != 0 || !out) {
        PQclear(r);
        if (out)
            *out = NULL;
        return rc;
    }
    *out = r;
    return 0;
}

static void put_ident(ox_buf *b, const char *s, size_t n)
{
    ox_buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            ox_buf_putc(b, '"');
        ox_buf_putc(b, (uint8_t)s[i]);
    }
    ox_buf_putc(b, '"');
}

/*
 * Appends "FOR TABLE "s"."t", TABLES IN SCHEMA "s2", ..." (NUL-terminated)
 * for a whitelist whose every pattern names this database's tables exactly:
 * DB.SCHEMA.TABLE, DB.SCHEMA.* or DB.SCHEMA (no other wildcard). Returns
 * false when the list is empty or cannot be expressed (then the caller
 * publishes all tables).
 */
static bool pub_scope(const char *list, const char *db, int server_version, ox_buf *out)
{
    if (!list)
        return false;
    size_t dl = strlen(db), items = 0;
    const char *s = list;
    for (;;) {
        const char *e = strchr(s, ',');
        if (!e)
            e = s + strlen(s);
        const char *a = s, *b = e;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (b == a)
            return false;
        if ((size_t)(b - a) <= dl + 1 || memcmp(a, db, dl) != 0 || a[dl] != '.')
            return false;
        const char *sch = a + dl + 1;
        const char *dot = memchr(sch, '.', (size_t)(b - sch));
        const char *star = memchr(sch, '*', (size_t)(b - sch));
        bool whole = !dot || (b - dot == 2 && dot[1] == '*');
        const char *sch_end = dot ? dot : b;
        if (sch_end == sch || (star && !(whole && star == dot + 1)))
            return false;
        if (!whole && (memchr(dot + 1, '.', (size_t)(b - dot - 1)) || b == dot + 1))
            return false;
        if (whole && server_version < 150000) /* TABLES IN SCHEMA is new in 15 */
            return false;
        ox_buf_puts(out, items++ ? ", " : "FOR ");
        if (whole) {
            ox_buf_puts(out, "TABLES IN SCHEMA ");
            put_ident(out, sch, (size_t)(sch_end - sch));
        } else {
            ox_buf_puts(out, "TABLE ");
            put_ident(out, sch, (size_t)(dot - sch));
            ox_buf_putc(out, '.');
            put_ident(out, dot + 1, (size_t)(b - dot - 1));
        }
        if (*e == '\0')
            break;
        s = e + 1;
    }
    ox_buf_putc(out, 0);
    return items > 0;
}

struct slot_state {
    bool exists;
    char plugin[64], database[128];
    uint64_t confirmed;
    char wal_status[32];
    bool active;
};

static int read_slot(struct pg_source *p, PGconn *c, struct slot_state *ss, ox_errbuf *eb)
{
    memset(ss, 0, sizeof *ss);
    const char *params[] = {p->slot};
    PGresult *r;
    int rc = exec(p, c,
                  "SELECT plugin, database, confirmed_flush_lsn::text, wal_status, active "
                  "FROM pg_replication_slots WHERE slot_name = $1",
                  1, params, &r, "reading pg_replication_slots", eb);
    if (rc != 0)
        return rc;
    if (PQntuples(r) == 1) {
        ss->exists = true;
        snprintf(ss->plugin, sizeof ss->plugin, "%s", PQgetvalue(r, 0, 0));
        snprintf(ss->database, sizeof ss->database, "%s", PQgetvalue(r, 0, 1));
        if (!PQgetisnull(r, 0, 2))
            (void)ox_pg_lsn_parse(PQgetvalue(r, 0, 2), &ss->confirmed);
        snprintf(ss->wal_status, sizeof ss->wal_status, "%s", PQgetvalue(r, 0, 3));
        ss->active = strcmp(PQgetvalue(r, 0, 4), "t") == 0;
    }
    PQclear(r);
    return 0;
}

/*
 * "Publication altered": the publication is gone, or an ordinary table the
 * store's whitelist covers exists but is not published (ALTER PUBLICATION
 * ... DROP TABLE). pgoutput then sends nothing for it, so without this
 * check its changes would be missing in silence. Tables added later to a
 * publication of named tables count too: the lists say they are wanted.
 */
static int check_publication(struct pg_source *p, PGconn *c, ox_errbuf *eb)
{
    const char *pub[] = {p->publication};
    PGresult *r = NULL;
    int rc = exec(p, c, "SELECT puballtables FROM pg_publication WHERE pubname = $1", 1, pub, &r,
                  "reading pg_publication", eb);
    if (rc != 0)
        return rc;
    bool exists = PQntuples(r) == 1, all = exists && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (!exists)
        return note_fault(p, OX_SOURCE_FAULT_PUBLICATION,
                          ox_errf(eb, OX_ECONFIG,
                                  "publication %s was dropped at %s:%u behind the store's back: "
                                  "changes since then were not published to the store; recreate "
                                  "it (the store then resumes by itself, skipping the WAL written "
                                  "meanwhile) and re-read the tables from a snapshot",
                                  p->publication, p->host, (unsigned)p->cfg.port),
                          eb);
    if (all)
        return 0;
    if ((rc = exec(p, c,
                   "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = "
                   "c.relnamespace WHERE c.relkind = 'r' AND c.relpersistence = 'p' AND NOT "
                   "c.relispartition AND n.nspname <> 'information_schema' AND n.nspname NOT "
                   "LIKE 'pg\\_%' AND NOT EXISTS (SELECT 1 FROM pg_publication_tables t WHERE "
                   "t.pubname = $1 AND t.schemaname = n.nspname AND t.tablename = c.relname) "
                   "ORDER BY 1, 2",
                   1, pub, &r, "reading pg_publication_tables", eb)) != 0)
        return rc;
    ox_filter *white = NULL;
    ox_errbuf fe;
    if (p->whitelist && ox_filter_parse(p->whitelist, &white, &fe) != 0)
        white = NULL; /* the store refuses a bad list before capture starts */
    char db[256];
    for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
        const char *sch = PQgetvalue(r, i, 0), *tab = PQgetvalue(r, i, 1);
        int n = snprintf(db, sizeof db, "%s.%s", p->database, sch);
        if (n < 0 || (size_t)n >= sizeof db)
            continue;
        if (white && !ox_filter_empty(white) &&
            !ox_filter_match(white, db, (size_t)n, tab, strlen(tab)))
            continue;
        rc = note_fault(p, OX_SOURCE_FAULT_PUBLICATION,
                        ox_errf(eb, OX_ECONFIG,
                                "publication %s at %s:%u does not publish table %s.%s, which the "
                                "store's whitelist covers (removed with ALTER PUBLICATION?): its "
                                "changes are not reaching the store; ALTER PUBLICATION %s ADD "
                                "TABLE it, then re-read it from a snapshot",
                                p->publication, p->host, (unsigned)p->cfg.port, sch, tab,
                                p->publication),
                        eb);
    }
    ox_filter_free(white);
    PQclear(r);
    return rc;
}

/* Checks the server and prepares the publication and the slot (see the
 * header): on a plain connection that is closed again. */
/* wal_level and the REPLICATION attribute, each with its own fault. */
static int check_server(struct pg_source *p, PGconn *c, ox_errbuf *eb)
{
    PGresult *r = NULL;
    int rc = exec(p, c,
                  "SELECT current_setting('wal_level'), (SELECT rolreplication OR "
                  "rolsuper FROM pg_roles WHERE rolname = current_user)",
                  0, NULL, &r, "checking the server", eb);
    if (rc != 0)
        return rc;
    if (strcmp(PQgetvalue(r, 0, 0), "logical") != 0) {
        rc = ox_errf(eb, OX_ECONFIG,
                     "wal_level is %s at %s:%u, but capture needs wal_level=logical (ALTER SYSTEM "
                     "SET wal_level = logical, then restart the server)",
                     PQgetvalue(r, 0, 0), p->host, (unsigned)p->cfg.port);
        note_fault(p, OX_SOURCE_FAULT_WAL_LEVEL, rc, eb);
    } else if (strcmp(PQgetvalue(r, 0, 1), "t") != 0) {
        rc = ox_errf(eb, OX_EPERM,
                     "missing privilege: user '%s' at %s:%u has no REPLICATION attribute (ALTER "
                     "ROLE %s REPLICATION)",
                     p->user, p->host, (unsigned)p->cfg.port, p->user);
        note_fault(p, OX_SOURCE_FAULT_PRIVILEGE, rc, eb);
    }
    PQclear(r);
    return rc;
}

/* The store's own publication: scoped by the whitelist where a publication
 * can express it, else FOR ALL TABLES. */
static int create_publication(struct pg_source *p, PGconn *c, ox_errbuf *eb)
{
    ox_buf sql = OX_BUF_INIT;
    /* The name was checked to be [a-z0-9_]: quoting it is enough. */
    ox_buf_printf(&sql, "CREATE PUBLICATION \"%s\" ", p->publication);
    ox_errbuf why;
    int scoped =
        pub_scope(p->cfg.whitelist, p->database, p->server_version, &sql) &&
        exec(p, c, (const char *)sql.data, 0, NULL, NULL, "creating the publication", &why) == 0;
    ox_buf_free(&sql);
    if (scoped)
        return 0;
    /* No list, one a publication cannot express, or naming tables that do
     * not exist yet: publish everything; the store's filters keep what the
     * lists say either way. */
    char all[160];
    snprintf(all, sizeof all, "CREATE PUBLICATION \"%s\" FOR ALL TABLES", p->publication);
    return exec(p, c, all, 0, NULL, NULL, "creating the publication", eb);
}

static int prepare(struct pg_source *p, const ox_source_start *from, ox_errbuf *eb)
{
    PGconn *c = NULL;
    PGresult *r = NULL;
    int rc = connect_pg(p, false, &c, eb);
    if (rc != 0)
        return rc;
    p->server_version = PQserverVersion(c);
    if ((rc = check_server(p, c, eb)) != 0)
        goto done;
    /* The publication first: pgoutput looks it up in the catalog as of
     * each change, so it must predate the slot's first change. */
    const char *pub[] = {p->publication};
    if ((rc = exec(p, c, "SELECT 1 FROM pg_publication WHERE pubname = $1", 1, pub, &r,
                   "reading pg_publication", eb)) != 0)
        goto done;
    bool have_pub = PQntuples(r) > 0;
    PQclear(r);
    r = NULL;
    bool position = from && from->kind == OX_SOURCE_FROM_FILEPOS;
    if (!have_pub && position) {
        /* Made again now, it would not cover what was committed meanwhile:
         * pgoutput reads the publication as of each change. */
        rc = note_fault(p, OX_SOURCE_FAULT_PUBLICATION,
                        ox_errf(eb, OX_ECONFIG,
                                "publication %s does not exist at %s:%u (dropped behind the "
                                "store's back?): changes since then were not published to the "
                                "store; recreate it (CREATE PUBLICATION %s ...: the store then "
                                "resumes by itself, skipping the WAL written meanwhile) and "
                                "re-read the tables from a snapshot",
                                p->publication, p->host, (unsigned)p->cfg.port, p->publication),
                        eb);
        goto done;
    }
    /* Checked here, on this connection, rather than at the stream's first
     * poll: that would open another connection while the walsender's first
     * changes wait in a socket nobody reads yet. */
    if (have_pub && (rc = check_publication(p, c, eb)) != 0)
        goto done;
    if (have_pub)
        p->pub_checked_ms = ox_time_mono_ms();
    if (!have_pub && (rc = create_publication(p, c, eb)) != 0)
        goto done;
    struct slot_state ss;
    int64_t busy_until = ox_time_mono_ms() + BUSY_WAIT_MS;
    for (;;) {
        if ((rc = read_slot(p, c, &ss, eb)) != 0)
            goto done;
        /* A walsender of a store that just died may still hold the slot
         * until it notices the closed socket. */
        if (!ss.exists || !ss.active || ox_time_mono_ms() > busy_until)
            break;
        ox_time_sleep_ms(100, 0);
    }
    if (!ss.exists && position) {
        rc = ox_errf(eb, OX_EGONE,
                     "replication slot %s does not exist at %s:%u (dropped behind the store's "
                     "back?): the changes since the store's position are lost to it",
                     p->slot, p->host, (unsigned)p->cfg.port);
        note_fault(p, OX_SOURCE_FAULT_SLOT_LOST, rc, eb);
        goto done;
    }
    if (ss.exists && strcmp(ss.wal_status, "lost") == 0) {
        rc = ox_errf(eb, OX_EGONE,
                     "replication slot %s at %s:%u was invalidated: the server removed WAL it "
                     "still needed (max_slot_wal_keep_size)",
                     p->slot, p->host, (unsigned)p->cfg.port);
        note_fault(p, OX_SOURCE_FAULT_SLOT_LOST, rc, eb);
        goto done;
    }
    if (ss.exists) /* until the next publication check reads it again */
        snprintf(p->wal_status, sizeof p->wal_status, "%s", ss.wal_status);
    if (ss.exists &&
        (strcmp(ss.plugin, "pgoutput") != 0 || strcmp(ss.database, p->database) != 0)) {
        rc = ox_errf(eb, OX_ECONFIG,
                     "replication slot %s at %s:%u belongs to plugin %s on database %s, not "
                     "pgoutput on %s",
                     p->slot, p->host, (unsigned)p->cfg.port, ss.plugin, ss.database, p->database);
        goto done;
    }
    if (!ss.exists && from && from->kind == OX_SOURCE_FROM_TIMESTAMP &&
        from->timestamp < (int64_t)time(NULL) - 1) {
        /* Refused before creating anything: a new slot starts now. */
        rc = ox_errf(eb, OX_EGONE,
                     "cannot start at timestamp %" PRId64
                     ": the replication slot %s does not exist yet, and a new slot cannot go "
                     "back before its creation",
                     from->timestamp, p->slot);
        goto done;
    }
    if (!ss.exists) {
        const char *sp[] = {p->slot};
        if ((rc = exec(p, c,
                       "SELECT lsn::text FROM pg_create_logical_replication_slot($1, 'pgoutput')",
                       1, sp, &r, "creating the replication slot", eb)) != 0)
            goto done;
        (void)ox_pg_lsn_parse(PQgetvalue(r, 0, 0), &ss.confirmed);
    }
    if (!position) {
        p->resume_lsn = ss.confirmed;
        p->durable_lsn = ss.confirmed;
    }
done:
    PQclear(r);
    PQfinish(c);
    return rc;
}

/* Sends a standby status update (see the header for what is flushed). */
static int send_status(struct pg_source *p, bool reply, ox_errbuf *eb)
{
    uint64_t flush = p->durable_lsn;
    if (!ox_pgoutput_in_txn(p->dec) && p->resume_lsn <= p->durable_lsn && p->idle_end > flush)
        flush = p->idle_end;
    if (flush < p->sent_flush)
        flush = p->sent_flush;
    uint8_t msg[34];
    ox_pg_status_update(msg, flush, flush, flush, pg_now_us(), reply);
    if (PQputCopyData(p->conn, (const char *)msg, sizeof msg) != 1 || PQflush(p->conn) != 0)
        return ox_errf(eb, OX_ECONN, "sending a status update to %s:%u: %s", p->host,
                       (unsigned)p->cfg.port, PQerrorMessage(p->conn));
    p->sent_flush = flush;
    p->last_status_ms = ox_time_mono_ms();
    return 0;
}

/* Streaming (PostgreSQL 14+, with a spill directory): the server sends a
 * large transaction while it runs instead of decoding it to its own disk;
 * ox_pg_stream keeps it until its commit (docs/pg_capture.md). */
static int stream_setup(struct pg_source *p, ox_errbuf *eb)
{
    if (p->server_version < 140000 || !p->spill_dir)
        return 0;
    if (!p->st) {
        int rc = ox_pg_stream_create(p->spill_dir, &p->st, eb);
        if (rc != 0)
            return rc;
    }
    ox_pg_stream_reset(p->st);
    return 0;
}

static int start_stream(struct pg_source *p, ox_errbuf *eb)
{
    int rc = stream_setup(p, eb);
    if (rc != 0)
        return rc;
    if ((rc = connect_pg(p, true, &p->conn, eb)) != 0)
        return rc;
    char lsn[24], sql[360];
    ox_pg_lsn_format(p->resume_lsn, lsn);
    snprintf(sql, sizeof sql,
             "START_REPLICATION SLOT \"%s\" LOGICAL %s (proto_version '%d', publication_names "
             "'\"%s\"'%s%s)",
             p->slot, lsn, p->server_version >= 140000 ? 2 : 1, p->publication,
             p->st && !p->unstreamed_until ? ", streaming 'on'" : "",
             p->server_version >= 140000 ? ", messages 'true'" : "");
    PGresult *r = PQexec(p->conn, sql);
    if (!r || PQresultStatus(r) != PGRES_COPY_BOTH) {
        rc = result_error(p, r, "START_REPLICATION", eb);
        PQclear(r);
        drop_conn(p);
        return rc;
    }
    PQclear(r);
    ox_pgoutput_reset(p->dec);
    p->skipping = false;
    p->last_rx_ms = ox_time_mono_ms();
    p->idle_end = 0;
    return send_status(p, true, eb);
}

static int pg_start(ox_source *s, const ox_source_start *from, ox_errbuf *eb)
{
    struct pg_source *p = P(s);
    if (p->started)
        return ox_errf(eb, OX_ESTATE, "postgresql source already started");
    ox_source_start now = {.kind = OX_SOURCE_FROM_NOW};
    if (!from)
        from = &now;
    if (from->kind == OX_SOURCE_FROM_GTID)
        return ox_errf(eb, OX_EINVAL,
                       "PostgreSQL has no GTID positions: start from a checkpoint "
                       "(fileIdx:offset is the LSN) or a timestamp");
    if (from->kind == OX_SOURCE_FROM_FILEPOS) {
        if (from->file || from->file_idx > 0xffffffffu || from->offset > 0xffffffffu)
            return ox_errf(eb, OX_ERANGE,
                           "fileIdx %" PRIu64 " offset %" PRIu64
                           " is not a PostgreSQL position (each is one 32-bit half of an LSN)",
                           from->file_idx, from->offset);
        p->resume_lsn = from->file_idx << 32 | from->offset;
        p->durable_lsn = p->resume_lsn;
    }
    if (from->kind == OX_SOURCE_FROM_TIMESTAMP)
        p->skip_before = from->timestamp;
    int rc = prepare(p, from, eb);
    if (rc == 0)
        rc = start_stream(p, eb);
    if (rc != 0)
        return rc;
    p->started = true;
    p->fault = OX_SOURCE_FAULT_NONE;
    return 0;
}

static void pg_confirm(ox_source *s, const ox_source_pos *durable)
{
    struct pg_source *p = P(s);
    uint64_t lsn = durable->file_idx << 32 | (durable->offset & 0xffffffffu);
    if (lsn > p->durable_lsn)
        p->durable_lsn = lsn;
}

/* Wraps the caller's callback: transactions, resume point, timestamp start. */
static int on_change(void *arg, const ox_change *c)
{
    struct pg_source *p = arg;
    switch (c->op) {
    case OX_OP_BEGIN:
        if (p->skip_before) {
            if (c->timestamp < p->skip_before) {
                p->skipping = true;
                return 0;
            }
            p->skip_before = 0;
        }
        break;
    case OX_OP_COMMIT:
        p->resume_lsn = c->file_idx << 32 | c->next_offset;
        if (p->skipping) {
            p->skipping = false;
            if (p->durable_lsn < p->resume_lsn) /* nothing of it is wanted */
                p->durable_lsn = p->resume_lsn;
            return 0;
        }
        break;
    default:
        if (p->skipping)
            return 0;
        break;
    }
    p->delivered++;
    return p->fn(p->arg, c);
}

static void go_down(struct pg_source *p, ox_reset_fn reset, ox_source_fault kind)
{
    ox_errbuf why;
    if (kind == OX_SOURCE_FAULT_RESTART)
        ox_errf(&why, OX_ECONN,
                "the server at %s:%u ended replication (shut down or restarting); reconnecting",
                p->host, (unsigned)p->cfg.port);
    else
        ox_errf(&why, OX_ECONN,
                "the connection to %s:%u broke without a shutdown (primary killed or crashed, or "
                "the network); reconnecting",
                p->host, (unsigned)p->cfg.port);
    note_fault(p, kind, 0, &why);
    if (ox_pgoutput_in_txn(p->dec) && !p->skipping && reset)
        reset(p->arg);
    ox_pgoutput_reset(p->dec);
    ox_pg_stream_reset(p->st);
    p->skipping = false;
    drop_conn(p);
    p->down = true;
    p->down_since_ms = ox_time_mono_ms();
    p->retry_at_ms = p->down_since_ms;
    p->attempts = 0;
    ox_backoff_reset(&p->retry);
}

static int try_reconnect(struct pg_source *p, int64_t deadline, ox_errbuf *eb)
{
    for (;;) {
        int64_t t = ox_time_mono_ms();
        if (t < p->retry_at_ms) {
            if (deadline <= t)
                return OX_EAGAIN;
            ox_time_sleep_ms((p->retry_at_ms < deadline ? p->retry_at_ms : deadline) - t, 0);
            if (ox_time_mono_ms() < p->retry_at_ms)
                return OX_EAGAIN;
        }
        ox_errbuf why;
        ox_source_start again = {.kind = OX_SOURCE_FROM_FILEPOS};
        int rc = prepare(p, &again, &why);
        if (rc == 0)
            rc = start_stream(p, &why);
        if (rc == 0) {
            p->down = false;
            p->fault = OX_SOURCE_FAULT_NONE;
            p->reconnects++;
            return 0;
        }
        if (rc != OX_ECONN && rc != OX_ETIMEDOUT && rc != OX_EBUSY)
            return ox_errf(eb, rc, "%s", why.msg);
        /* Unreachable is retried for ever (the fault stays the cause); a
         * slot another process holds, only for BUSY_GIVE_UP_MS. */
        if (rc == OX_EBUSY && ox_time_mono_ms() - p->down_since_ms >= BUSY_GIVE_UP_MS)
            return ox_errf(eb, rc, "%s", why.msg);
        p->attempts++;
        p->retry_at_ms = ox_time_mono_ms() + ox_backoff_fail(&p->retry);
    }
}

/*
 * A new START_REPLICATION from the resume point on a fresh connection, with
 * streaming switched as p->unstreamed_until says (docs/pg_capture.md,
 * "Streamed transactions"). Called between transactions only: nothing is
 * open in the decoder; other streamed transactions open at the server are
 * streamed again from their start. A failure is a lost link (retried).
 */
static void restream(struct pg_source *p, ox_reset_fn reset)
{
    ox_errbuf why;
    ox_pgoutput_reset(p->dec);
    p->skipping = false;
    drop_conn(p);
    /* The walsender just left holds the slot until it has exited. */
    int rc = OX_EBUSY;
    for (int i = 0; i < RESTREAM_TRIES && rc == OX_EBUSY; i++) {
        if (i)
            ox_time_sleep_ms(50, 0);
        rc = start_stream(p, &why);
    }
    if (rc != 0)
        go_down(p, reset, OX_SOURCE_FAULT_PRIMARY_LOST);
}

/* The Stream Commit of an ambiguous transaction (ox_pg_stream.h): the
 * server sends it again unstreamed, from the end of the last transaction
 * delivered (nothing of it was), and streaming stays off until its commit
 * is durable, so a crash meanwhile does not stream it again. */
static void resend_unstreamed(struct pg_source *p, ox_reset_fn reset)
{
    p->unstreamed_until = ox_pg_stream_resend_end(p->st);
    p->resends++;
    restream(p, reset);
}

/* Streaming on again once the transaction sent unstreamed is durable;
 * true when that reconnected. */
static bool stream_again(struct pg_source *p, ox_reset_fn reset)
{
    if (!p->unstreamed_until || p->durable_lsn < p->unstreamed_until || ox_pgoutput_in_txn(p->dec))
        return false;
    p->unstreamed_until = 0;
    restream(p, reset);
    return true;
}

static int handle_frame(struct pg_source *p, const uint8_t *buf, size_t n, ox_errbuf *eb)
{
    ox_pg_frame f;
    int rc = ox_pg_frame_parse(buf, n, &f, eb);
    if (rc != 0)
        return rc;
    if (f.wal_end > p->wal_end)
        p->wal_end = f.wal_end;
    p->have_lag = true;
    if (f.kind == OX_PG_FRAME_XLOGDATA) {
        ox_pgoutput_set_send_time(p->dec, f.send_time / 1000000 + OX_PG_EPOCH_UNIX);
        rc = p->st ? ox_pg_stream_feed(p->st, f.msg, f.msg_len, f.start, eb) : 0;
        /* Between transactions: nothing for a reset to discard. */
        if (rc == OX_PG_STREAM_RESEND)
            resend_unstreamed(p, NULL);
        if (rc != 0)
            return rc < 0 ? rc : 0;
        return ox_pgoutput_feed(p->dec, f.msg, f.msg_len, f.start, on_change, p, eb);
    }
    if (!ox_pgoutput_in_txn(p->dec)) {
        /* Conservative: no keepalive position is confirmed while a streamed
         * transaction is open (only the durable commits before it). */
        if (f.wal_end > p->idle_end && !ox_pg_stream_open(p->st))
            p->idle_end = f.wal_end;
        ox_change hb;
        memset(&hb, 0, sizeof hb);
        hb.op = OX_OP_HEARTBEAT;
        hb.file_idx = f.wal_end >> 32;
        hb.offset = hb.next_offset = f.wal_end & 0xffffffffu;
        hb.timestamp = f.send_time / 1000000 + OX_PG_EPOCH_UNIX;
        p->delivered++;
        if ((rc = p->fn(p->arg, &hb)) != 0)
            return rc;
    }
    if (f.reply)
        return send_status(p, false, eb);
    return 0;
}

/*
 * The walsender stopped with "publication P does not exist": pgoutput reads
 * the publication as of each change, so after DROP and CREATE PUBLICATION
 * it cannot decode anything committed while P was missing, and would fail
 * there forever. While P is missing this says so; once P exists again the
 * slot is advanced to the server's current WAL position (no output plugin
 * runs while advancing), and the error names the skipped range: the store
 * reports it (status 9, DRC_509), reconnects, and the server resumes at the
 * new position. Always returns an OX_ECONFIG error in eb.
 */
static int publication_gap(struct pg_source *p, ox_errbuf *eb)
{
    if (p->conn)
        PQfinish(p->conn);
    p->conn = NULL;
    PGconn *c = NULL;
    PGresult *r = NULL;
    ox_errbuf why;
    const char *params[] = {p->publication, p->slot};
    char from[24], to[24] = "";
    ox_pg_lsn_format(p->resume_lsn, from);
    int rc = connect_pg(p, false, &c, &why);
    if (rc == 0)
        rc = exec(p, c, "SELECT pg_current_wal_lsn()::text FROM pg_publication WHERE pubname = $1",
                  1, params, &r, "reading pg_publication", &why);
    if (rc == 0 && PQntuples(r) == 1) {
        snprintf(to, sizeof to, "%s", PQgetvalue(r, 0, 0));
        const char *adv[] = {p->slot, to};
        /* The walsender that failed may hold the slot for a moment. */
        for (int i = 0; i < 100; i++) {
            rc = exec(p, c, "SELECT pg_replication_slot_advance($1, $2::pg_lsn)", 2, adv, NULL,
                      "advancing the replication slot", &why);
            if (rc != OX_EBUSY)
                break;
            ox_time_sleep_ms(100, 0);
        }
    }
    PQclear(r);
    if (c)
        PQfinish(c);
    if (rc == 0 && to[0])
        rc = ox_errf(eb, OX_ECONFIG,
                     "publication %s at %s:%u was dropped and created again: the server cannot "
                     "decode what committed while it was missing, so the store skipped the WAL "
                     "from %s to %s (changes committed there are not in the store: re-read the "
                     "tables from a snapshot) and resumes",
                     p->publication, p->host, (unsigned)p->cfg.port, from, to);
    else if (rc == 0)
        rc = ox_errf(eb, OX_ECONFIG,
                     "publication %s was dropped at %s:%u behind the store's back: changes since "
                     "then were not published to the store; recreate it (the store then resumes "
                     "by itself, skipping the WAL written meanwhile) and re-read the tables from a "
                     "snapshot",
                     p->publication, p->host, (unsigned)p->cfg.port);
    else
        rc = ox_errf(eb, OX_ECONFIG, "publication %s is missing at %s:%u (%s)", p->publication,
                     p->host, (unsigned)p->cfg.port, why.msg);
    return note_fault(p, OX_SOURCE_FAULT_PUBLICATION, rc, eb);
}

/* A committed streamed transaction goes out in batches of POLL_BATCH
 * records; the socket waits meanwhile (status updates still go out). */
static int replay_step(struct pg_source *p, ox_reset_fn reset, ox_errbuf *eb)
{
    int rc = ox_pg_stream_replay(p->st, p->dec, POLL_BATCH, on_change, p, eb);
    if (rc != 0 && ox_pgoutput_in_txn(p->dec) && reset)
        reset(p->arg);
    return rc;
}

/* The publication and the slot's wal_status, read now and then over a
 * second (catalog) connection; 0, or the error that ends the poll. */
static int periodic_check(struct pg_source *p, int64_t t, ox_errbuf *eb)
{
    p->pub_checked_ms = t;
    ox_errbuf why;
    int rc;
    if (!p->cat && connect_pg(p, false, &p->cat, &why) != 0)
        p->cat = NULL; /* the stream notices a server that is gone */
    if (p->cat && (rc = check_publication(p, p->cat, &why)) != 0) {
        if (p->fault == OX_SOURCE_FAULT_PUBLICATION)
            return ox_errf(eb, rc, "%s", why.msg);
        PQfinish(p->cat);
        p->cat = NULL;
    }
    struct slot_state ss;
    if (p->cat && read_slot(p, p->cat, &ss, &why) == 0)
        snprintf(p->wal_status, sizeof p->wal_status, "%s", ss.exists ? ss.wal_status : "");
    return 0;
}

/* Nothing buffered: waits for input until the deadline or the next status
 * update. Returns 1 when the poll's deadline has passed. */
static int wait_input(struct pg_source *p, ox_reset_fn reset, bool *nap, int64_t t,
                      int64_t deadline, int hb)
{
    struct pollfd pfd = {.fd = PQsocket(p->conn), .events = POLLIN};
    if (*nap) {
        /* ... and the socket is drained (we read faster than the server
         * sends): let it queue a batch rather than wake this thread for
         * every few messages, which costs the walsender and us more than
         * the messages. A socket with data is read at once: napping then
         * would throttle the server. */
        *nap = false;
        if (poll(&pfd, 1, 0) == 0)
            ox_time_sleep_ms(NAP_MS, 0);
        if (PQconsumeInput(p->conn) != 1)
            go_down(p, reset, OX_SOURCE_FAULT_PRIMARY_LOST);
        return 0;
    }
    int wait = (int)(deadline > t ? deadline - t : 0);
    int64_t st = p->last_status_ms + hb - t;
    if (wait > st)
        wait = st > 0 ? (int)st : 0;
    int pr = poll(&pfd, 1, wait);
    if (pr > 0 && PQconsumeInput(p->conn) != 1) {
        go_down(p, reset, OX_SOURCE_FAULT_PRIMARY_LOST);
        return 0;
    }
    return pr == 0 && ox_time_mono_ms() >= deadline;
}

/* PQgetCopyData gave n < 0: -1, the server ended the stream (an error, or
 * shutdown); -2, the connection failed. 0 when the link goes down to be
 * reconnected, else the error that ends the poll. */
static int stream_ended(struct pg_source *p, int n, ox_reset_fn reset, ox_errbuf *eb)
{
    PGresult *r = PQgetResult(p->conn);
    ox_errbuf why;
    /* A shutdown ends the stream cleanly or with 57P01 (admin shutdown); a
     * killed server just closes the socket. */
    bool clean = n == -1 && r && PQresultStatus(r) == PGRES_COMMAND_OK;
    int rc = result_error(p, r, "streaming", &why);
    bool restart = clean || p->fault == OX_SOURCE_FAULT_RESTART;
    PQclear(r);
    if (rc == OX_ECONN || rc == OX_EBUSY || n == -2) {
        go_down(p, reset, restart ? OX_SOURCE_FAULT_RESTART : OX_SOURCE_FAULT_PRIMARY_LOST);
        return 0;
    }
    if (ox_pgoutput_in_txn(p->dec) && reset)
        reset(p->arg);
    if (rc == OX_ECONFIG && p->fault == OX_SOURCE_FAULT_PUBLICATION)
        return publication_gap(p, eb);
    return ox_errf(eb, rc, "%s", why.msg);
}

static int pg_poll(ox_source *s, ox_change_fn fn, ox_reset_fn reset, void *arg, int timeout_ms,
                   ox_errbuf *eb)
{
    struct pg_source *p = P(s);
    if (!p->started)
        return ox_errf(eb, OX_ESTATE, "postgresql source not started");
    p->fn = fn;
    p->arg = arg;
    /* The last call found a busy stream (catching up): */
    bool nap = p->delivered >= NAP_AFTER;
    p->delivered = 0;
    int64_t deadline = ox_time_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    int hb = p->cfg.heartbeat_ms > 0 ? p->cfg.heartbeat_ms : 1000;
    int64_t limit = 3 * (int64_t)hb < 5000 ? 5000 : 3 * (int64_t)hb;
    int rc;
    /* While frames flow the clock is read every CLOCK_EVERY frames, not per
     * frame (a measurable share of catch-up); any other path back to the
     * top of the loop reads it. */
    int64_t t = 0;
    int frames = CLOCK_EVERY;
    for (;;) {
        if (p->down) {
            frames = CLOCK_EVERY;
            rc = try_reconnect(p, deadline, eb);
            if (rc == OX_EAGAIN)
                return p->delivered ? 0 : OX_EAGAIN;
            if (rc != 0)
                return rc;
            continue;
        }
        if (frames >= CLOCK_EVERY) {
            t = ox_time_mono_ms();
            frames = 0;
        }
        /* Report progress now and then, and ask for a keepalive so that an
         * idle stream still proves the link alive. */
        if (t - p->last_status_ms >= (p->sent_flush != p->durable_lsn ? 100 : hb)) {
            ox_errbuf why;
            if (send_status(p, t - p->last_status_ms >= hb, &why) != 0) {
                go_down(p, reset, OX_SOURCE_FAULT_PRIMARY_LOST);
                continue;
            }
        }
        if (ox_pg_stream_replaying(p->st)) {
            p->last_rx_ms = t;
            frames = CLOCK_EVERY; /* a batch takes a while: read the clock again */
            if ((rc = replay_step(p, reset, eb)) != 0)
                return rc;
            if (p->delivered >= POLL_BATCH || !ox_pg_stream_replaying(p->st))
                return 0;
            continue;
        }
        if (stream_again(p, reset))
            continue;
        if (t - p->last_rx_ms > limit) {
            go_down(p, reset, OX_SOURCE_FAULT_PRIMARY_LOST);
            continue;
        }
        if (t - p->pub_checked_ms >= PUB_CHECK_MS && !ox_pgoutput_in_txn(p->dec) &&
            (rc = periodic_check(p, t, eb)) != 0)
            return rc;
        char *buf = NULL;
        int n = PQgetCopyData(p->conn, &buf, 1);
        frames = n > 0 ? frames + 1 : CLOCK_EVERY;
        if (n > 0) {
            p->last_rx_ms = t;
            rc = handle_frame(p, (const uint8_t *)buf, (size_t)n, eb);
            PQfreemem(buf);
            if (rc != 0)
                return rc;
            if (p->delivered >= POLL_BATCH)
                return 0;
            continue;
        }
        if (n == 0) {
            if (p->delivered)
                return 0;
            if (wait_input(p, reset, &nap, t, deadline, hb))
                return OX_EAGAIN;
            continue;
        }
        if ((rc = stream_ended(p, n, reset, eb)) != 0)
            return rc;
    }
}

/* crawler/destroy: drops the slot and the publication if their names are
 * the derived ones (the store created them); named ones are the user's. */
static int pg_drop(const ox_source_config *cfg, ox_errbuf *eb)
{
    ox_source *s = NULL;
    int rc = pg_open(cfg, &s, eb);
    if (rc != 0)
        return rc;
    struct pg_source *p = P(s);
    PGconn *c = NULL;
    if ((rc = connect_pg(p, false, &c, eb)) != 0)
        goto done;
    if (!(cfg->slot && *cfg->slot)) {
        const char *sp[] = {p->slot};
        /* A walsender may still hold it for a moment after the store stopped. */
        for (int i = 0; i < 100; i++) {
            rc = exec(p, c,
                      "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                      "WHERE slot_name = $1",
                      1, sp, NULL, "dropping the replication slot", eb);
            if (rc != OX_EBUSY)
                break;
            ox_time_sleep_ms(100, 0);
        }
        if (rc != 0)
            goto done;
    }
    if (!(cfg->publication && *cfg->publication)) {
        char sql[160];
        snprintf(sql, sizeof sql, "DROP PUBLICATION IF EXISTS \"%s\"", p->publication);
        rc = exec(p, c, sql, 0, NULL, NULL, "dropping the publication", eb);
    }
done:
    if (c)
        PQfinish(c);
    pg_close(s);
    return rc;
}

static int pg_lag(ox_source *s, uint64_t *bytes)
{
    struct pg_source *p = P(s);
    if (!p->have_lag)
        return OX_EAGAIN;
    *bytes = p->wal_end > p->sent_flush ? p->wal_end - p->sent_flush : 0;
    return 0;
}

/* The primary key of a FULL or NOTHING table, from the catalog over the
 * plain connection (the stream connection cannot run queries). */
static int pk_lookup(void *arg, uint32_t relid, ox_buf *names)
{
    struct pg_source *p = arg;
    ox_errbuf why;
    if (!p->cat && connect_pg(p, false, &p->cat, &why) != 0) {
        p->cat = NULL;
        return OX_ECONN;
    }
    char oid[16];
    snprintf(oid, sizeof oid, "%u", relid);
    const char *params[] = {oid};
    PGresult *r = NULL;
    int rc = exec(p, p->cat,
                  "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = "
                  "i.indrelid AND a.attnum = ANY (i.indkey) WHERE i.indrelid = $1::oid AND "
                  "i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)",
                  1, params, &r, "reading the primary key", &why);
    if (rc != 0) {
        PQfinish(p->cat);
        p->cat = NULL;
        return rc;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        const char *n = PQgetvalue(r, i, 0);
        ox_buf_put(names, n, strlen(n) + 1);
    }
    PQclear(r);
    return 0;
}

static int pg_slot_status(ox_source *s, char *out, size_t n)
{
    struct pg_source *p = P(s);
    if (!p->wal_status[0])
        return OX_EAGAIN;
    snprintf(out, n, "%s", p->wal_status);
    return 0;
}

static void pg_state(ox_source *s, ox_source_state *out, ox_errbuf *why)
{
    struct pg_source *p = P(s);
    out->down = p->down;
    out->down_for_ms = p->down ? ox_time_mono_ms() - p->down_since_ms : 0;
    out->attempts = p->down ? p->attempts : 0;
    out->reconnects = p->reconnects;
    out->resends = p->resends;
    if (why)
        *why = p->down ? p->fault_why : (ox_errbuf){{0}};
}

static ox_source_fault pg_fault(ox_source *s, ox_errbuf *why)
{
    struct pg_source *p = P(s);
    if (why && p->fault != OX_SOURCE_FAULT_NONE)
        *why = p->fault_why;
    return p->fault;
}

const struct ox_source_ops ox_pg_source_ops = {
    .name = "postgresql",
    .open = pg_open,
    .start = pg_start,
    .poll = pg_poll,
    .close = pg_close,
    .confirm = pg_confirm,
    .drop = pg_drop,
    .lag = pg_lag,
    .fault = pg_fault,
    .state = pg_state,
    .slot_status = pg_slot_status,
};
