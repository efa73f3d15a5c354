/*
 * ox_store_config.h - the store's configuration (`oxbow store --config FILE`).
 *
 * Keys, defaults and meaning are listed in docs/store.md and in the contract
 * with the supervisor (notes/store_contract.md). Loading is strict: an
 * unknown key or a malformed value is OX_ECONFIG with a message naming the
 * key. The password is read here from a file or an environment variable, so
 * it never appears on a command line. Nothing here logs.
 */
#ifndef OX_STORE_CONFIG_H
#define OX_STORE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "ox_checkpoint.h"
#include "ox_err.h"
#include "ox_props.h"
#include "ox_source.h"

enum ox_store_loglevel {
    OX_LL_DEBUG = 0,
    OX_LL_INFO = 1,
    OX_LL_WARN = 2,
    OX_LL_ERROR = 3,
};

enum ox_store_resume {
    OX_RESUME_AUTO = 0,    /* by GTID when the last transaction has a MariaDB GTID */
    OX_RESUME_GTID = 1,    /* the same (named for clarity in configs) */
    OX_RESUME_FILEPOS = 2, /* always by binlog file index + offset */
};

typedef struct ox_store_config {
    char *name;        /* store.name */
    char *short_name;  /* name as OMS messages show it: "topic-000-0.0000000007" */
    char *dir;         /* store.dir */
    char *listen;      /* store.listen, default 127.0.0.1 */
    uint16_t port;     /* store.port */
    char *auth_token;  /* contents of store.auth.token.file, or NULL */
    char *source_type; /* source.type, "mysql" */
    char *source_host; /* source.host */
    uint16_t source_port;
    uint32_t source_ip; /* source.host resolved to IPv4 (host order), for checkpoints */
    char *source_user;
    char *source_password;    /* from source.password.file or .env; never logged */
    uint32_t server_id;       /* source.server_id, default 1000000 + store.port */
    int heartbeat_ms;         /* source.heartbeat.ms */
    int connect_timeout_s;    /* source.connect_timeout.s */
    int has_start;            /* store.start.checkpoint given and not empty */
    ox_checkpoint start;      /* parsed store.start.checkpoint */
    char *start_gtid;         /* store.start.gtid: a MariaDB GTID position to begin at */
    char *whitelist;          /* store.whitelist, "" = everything */
    char *blacklist;          /* store.blacklist */
    int64_t retention_s;      /* store.clearer.outdated */
    uint64_t retention_bytes; /* store.clearer.max_bytes */
    uint64_t segment_bytes;   /* store.segment.bytes */
    int fsync_policy;         /* enum ox_log_fsync */
    uint32_t fsync_interval_ms;
    int log_level;          /* enum ox_store_loglevel */
    int max_subscribers;    /* store.max_subscribers */
    int max_per_ip;         /* store.max_connections_per_ip (64) */
    int request_timeout_ms; /* store.http.request_timeout_ms (5000) */
    int resume_mode;        /* store.resume: enum ox_store_resume */
    /* PostgreSQL sources (source.type=postgresql, docs/pg_capture.md). */
    char *source_database;    /* source.database: the database to capture */
    char *source_slot;        /* source.slot: an existing slot, NULL = the store's own */
    char *source_publication; /* source.publication: an existing one, NULL = the store's own */
    /* TLS to a MySQL/MariaDB source (as `oxbow capture --tls-ca/--tls-required`). */
    char *source_tls_ca;     /* source.tls.ca: verify the server against this CA, or NULL */
    int source_tls_required; /* source.tls.required */
} ox_store_config;

/*
 * Loads and validates FILE. On success *out is owned by the caller (free
 * with ox_store_config_free). Errors: OX_ECONFIG/OX_EIO/OX_ENOENT with the
 * key or path named in eb.
 */
int ox_store_config_load(const char *path, ox_store_config **out, ox_errbuf *eb);

/* The same from already parsed properties (tests use this). */
int ox_store_config_from_props(const ox_props *p, ox_store_config **out, ox_errbuf *eb);

/* Frees; NULL is a no-op. Wipes the password before freeing. */
void ox_store_config_free(ox_store_config *c);

/* Fills *sc (zeroed first) with the source settings of `c`: the one place
 * that maps store keys onto ox_source_config, for capture and for dropping
 * what a store created on its source. Pointers point into `c`; the schema
 * history directory is left to the caller. */
void ox_store_config_source(const ox_store_config *c, ox_source_config *sc);

/* One key as docs/store.md documents it: its row is
 * "| `key` | doc_default | doc |". */
typedef struct ox_store_key_doc {
    const char *key, *doc_default, *doc;
} ox_store_key_doc;
/* Every key, in the order of the table in docs/store.md; *n is the count.
 * Static storage; not thread-safe on first call (call it from one thread). */
const ox_store_key_doc *ox_store_config_keys(size_t *n);
/* "debug", "info", ... */
const char *ox_store_loglevel_name(int level);

#endif
