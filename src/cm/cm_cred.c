/*
 * cm_cred.c - supervisor credentials: one bearer token per host.
 *
 * A supervisor authenticates its heartbeat with the credential of its host
 * ("<ip>-<port>", the host id). The CM keeps only the SHA-256 of each token,
 * in ox_sv_credentials, and an in-memory copy of that table (under `lock`).
 * A token authenticates exactly one host id; the heartbeat must name that
 * host, and its answer (the only response carrying source passwords) lists
 * only that host's stores. The API token (cm.auth.token) is never a
 * supervisor credential.
 *
 * Credentials are issued only by `oxbow cm --issue-supervisor-credential`,
 * which writes the metaDB directly: whoever can issue one can read the
 * metaDB, which holds the source passwords anyway. An API endpoint that
 * issued them would hand every API token holder a way to become a host.
 * Revoking (API or command) only takes access away; the API call takes
 * effect at once, the command within CM_CRED_REFRESH_MS.
 *
 * The host the CM runs on needs no configuration: <cm.data.dir>/supervisor.token
 * (0600, generated once) is the credential of the host id that the CM's own
 * supervisor.* keys give (the in-process supervisor, 127.0.0.1-7100 by
 * default); it is not in the table and cannot be revoked.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cm_internal.h"
#include "ox_alloc.h"
#include "ox_checkpoint.h"
#include "ox_durable.h"
#include "ox_sha256.h"

struct cm_cred {
    char host_id[32];
    char hash[65];
};

/* Reloads happen on a miss, at most this often, so that credentials issued
 * by the command reach a running CM without letting wrong tokens hammer the
 * metaDB. */
#define CM_CRED_RELOAD_MS 1000
/* And at least this often on hits, so that a revocation by the command
 * (which does not reach the running CM) takes effect. */
#define CM_CRED_REFRESH_MS 10000

int cm_host_id_check(const char *s, char canon[32])
{
    const char *dash = strrchr(s, '-');
    uint32_t a;
    if (dash == NULL || ox_ipv4_parse(s, (size_t)(dash - s), &a) != 0)
        return 0;
    char *end;
    errno = 0;
    long port = strtol(dash + 1, &end, 10);
    if (dash[1] < '0' || dash[1] > '9' || *end != '\0' || errno != 0 || port < 1 || port > 65535)
        return 0;
    char ip[16];
    ox_ipv4_format(a, ip);
    snprintf(canon, 32, "%s-%ld", ip, port);
    return strcmp(canon, s) == 0;
}

/* Compares without an early exit so that timing does not leak the hash. */
static int hash_eq(const char *a, const char *b)
{
    unsigned char d = 0;
    for (int i = 0; i < 64; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

static int collect(void *arg, int n, const char *const *v)
{
    struct cm_vec *vec = arg;
    if (n < 2 || v[0] == NULL || v[1] == NULL || strlen(v[0]) >= 32 || strlen(v[1]) != 64)
        return 0;
    struct cm_cred *c = ox_xcalloc(1, sizeof *c);
    snprintf(c->host_id, sizeof c->host_id, "%s", v[0]);
    memcpy(c->hash, v[1], 65);
    int pos;
    if (cm_vec_find(vec, c->host_id, &pos))
        free(c);
    else
        cm_vec_insert(vec, pos, c);
    return 0;
}

static void vec_clear(struct cm_vec *v)
{
    for (int i = 0; i < v->n; i++)
        free(v->v[i]);
    free(v->v);
    memset(v, 0, sizeof *v);
}

int cm_cred_load(struct ox_cm *cm, ox_errbuf *eb)
{
    struct cm_vec fresh = {0};
    int rc = cm_db_exec(cm, OX_MDB_SVCRED_ALL, 0, NULL, collect, &fresh, eb);
    if (rc != 0) {
        vec_clear(&fresh);
        return rc;
    }
    pthread_rwlock_wrlock(&cm->lock);
    struct cm_vec old = cm->creds;
    cm->creds = fresh;
    pthread_rwlock_unlock(&cm->lock);
    vec_clear(&old);
    atomic_store(&cm->creds_loaded_ms, cm_wall_ms());
    return 0;
}

void cm_cred_free(struct ox_cm *cm)
{
    vec_clear(&cm->creds);
}

static int lookup(struct ox_cm *cm, const char *hash, char host_id[32])
{
    int found = 0;
    pthread_rwlock_rdlock(&cm->lock);
    /* Every entry is compared, so the time does not depend on the match. */
    for (int i = 0; i < cm->creds.n; i++) {
        const struct cm_cred *c = cm->creds.v[i];
        if (hash_eq(c->hash, hash) && !found) {
            snprintf(host_id, 32, "%s", c->host_id);
            found = 1;
        }
    }
    pthread_rwlock_unlock(&cm->lock);
    return found;
}

int cm_cred_auth(struct ox_cm *cm, const char *token, char host_id[32])
{
    char hash[65], local[65];
    ox_sha256_hex(token, strlen(token), hash);
    if (cm->sv_token != NULL && cm->local_sv_host[0] != '\0') {
        ox_sha256_hex(cm->sv_token, strlen(cm->sv_token), local);
        if (hash_eq(hash, local)) {
            snprintf(host_id, 32, "%s", cm->local_sv_host);
            return 1;
        }
    }
    long long now = cm_wall_ms();
    long long last = atomic_load(&cm->creds_loaded_ms);
    int hit = lookup(cm, hash, host_id);
    if (hit && now - last < CM_CRED_REFRESH_MS)
        return 1;
    if (now - last < CM_CRED_RELOAD_MS ||
        !atomic_compare_exchange_strong(&cm->creds_loaded_ms, &last, now))
        return hit;
    ox_errbuf eb;
    if (cm_cred_load(cm, &eb) != 0)
        return hit; /* the metaDB is down: what we know stands */
    return lookup(cm, hash, host_id);
}

static int found_row(void *arg, int n, const char *const *v)
{
    (void)n;
    (void)v;
    *(int *)arg = 1;
    return 0;
}

int cm_cred_revoke(struct ox_cm *cm, const char *host_id, ox_errbuf *eb)
{
    int found = 0;
    const char *p[1] = {host_id};
    int rc = cm_db_exec(cm, OX_MDB_SVCRED_DELETE, 1, p, found_row, &found, eb);
    if (rc != 0)
        return rc;
    pthread_rwlock_wrlock(&cm->lock);
    int pos;
    if (cm_vec_find(&cm->creds, host_id, &pos))
        free(cm_vec_remove(&cm->creds, pos));
    pthread_rwlock_unlock(&cm->lock);
    return found ? 0 : OX_ENOENT;
}

int cm_random_hex(size_t nbytes, char *hex, ox_errbuf *eb)
{
    unsigned char raw[64];
    if (nbytes > sizeof raw)
        return ox_errf(eb, OX_EINVAL, "random token too long");
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t got = fd >= 0 ? read(fd, raw, nbytes) : -1;
    if (fd >= 0)
        close(fd);
    if (got != (ssize_t)nbytes)
        return ox_errf(eb, OX_EIO, "cannot read /dev/urandom");
    for (size_t i = 0; i < nbytes; i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    memset(raw, 0, sizeof raw);
    return 0;
}

int ox_cm_credential_issue(const struct ox_cm_config *cfg, const char *host_id,
                           const char *out_path, ox_errbuf *eb)
{
    char canon[32];
    if (!cm_host_id_check(host_id, canon))
        return ox_errf(eb, OX_EINVAL, "host \"%.64s\" is not <IPv4>-<port> (e.g. 10.0.0.2-7100)",
                       host_id);
    char token[49], hash[65], ms[24];
    int rc = cm_random_hex(24, token, eb);
    if (rc != 0)
        return rc;
    ox_sha256_hex(token, strlen(token), hash);
    snprintf(ms, sizeof ms, "%" PRId64, cm_wall_ms());
    /* The file first (O_EXCL: never overwrite), so a row never exists whose
     * token nobody has. */
    int fd = open(out_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = ox_errf(eb, OX_EIO, "cannot create %s: %s", out_path, strerror(errno));
        goto done;
    }
    token[48] = '\n';
    /* Durable with its directory entry before the row exists. */
    rc = ox_durable_write(fd, token, 49, out_path, eb);
    token[48] = '\0';
    if (rc == 0)
        rc = ox_durable_fsync(fd, out_path, eb);
    if (close(fd) != 0 && rc == 0)
        rc = ox_errf(eb, OX_EIO, "close %s: %s", out_path, strerror(errno));
    if (rc == 0)
        rc = ox_durable_fsync_parent(out_path, eb);
    if (rc != 0) {
        unlink(out_path);
        goto done;
    }
    ox_metadb *db = NULL;
    if ((rc = ox_metadb_open_flags(cfg->metadb_url, OX_MDB_OPEN_NO_OWNER, &db, eb)) == 0) {
        const char *p[3] = {canon, hash, ms};
        rc = ox_metadb_exec(db, OX_MDB_SVCRED_INSERT, 3, p, NULL, NULL, eb);
        if (rc != 0) {
            char why[300];
            snprintf(why, sizeof why, "%.250s", eb->msg);
            rc = ox_errf(eb, OX_EEXIST,
                         "host %s: cannot store the credential (%s); a host has one credential:"
                         " revoke it first",
                         canon, why);
        }
        ox_metadb_close(db);
    }
    if (rc != 0)
        unlink(out_path);
done:
    memset(token, 0, sizeof token);
    return rc;
}

int ox_cm_credential_revoke(const struct ox_cm_config *cfg, const char *host_id, ox_errbuf *eb)
{
    char canon[32];
    if (!cm_host_id_check(host_id, canon))
        return ox_errf(eb, OX_EINVAL, "host \"%.64s\" is not <IPv4>-<port>", host_id);
    ox_metadb *db = NULL;
    int rc = ox_metadb_open_flags(cfg->metadb_url, OX_MDB_OPEN_NO_OWNER, &db, eb);
    if (rc != 0)
        return rc;
    int found = 0;
    const char *p[1] = {canon};
    rc = ox_metadb_exec(db, OX_MDB_SVCRED_DELETE, 1, p, found_row, &found, eb);
    ox_metadb_close(db);
    if (rc == 0 && !found)
        rc = ox_errf(eb, OX_ENOENT, "host %s has no supervisor credential", canon);
    return rc;
}

const char *cm_cred_kind(const struct ox_cm *cm, const char *host_id)
{
    int pos;
    if (strcmp(host_id, cm->local_sv_host) == 0)
        return "local";
    return cm_vec_find(&cm->creds, host_id, &pos) ? "issued" : "none";
}
