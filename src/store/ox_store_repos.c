/*
 * ox_store_repos.c - moving a stopped store to a new start position without
 * destroying its log (POST /crawler/reposition; docs/operations.md).
 *
 * store.start.checkpoint (and store.start.gtid) only say where an EMPTY store
 * starts; a store with records resumes after its own last record. The CM
 * repositions a stopped store by changing its start checkpoint; the store
 * notices the change here, at start, against the start position it recorded
 * last time in `<store.dir>/reposition`:
 *
 *   start=<the configured start: checkpoint text, "gtid=..." or "">\n
 *   base=<last msgId of the log when that start was applied>\n
 *   active=<1 while capture must begin at the configured start>\n
 *
 * When the configured start differs from the recorded one, the store:
 * removes its schema history (`<store.dir>/schema/history`: the history of
 * the old position must not decode events of the new one; the source takes
 * a fresh snapshot at the new position), then records the new start with
 * base = the log's last msgId and active = 1. While the log still ends at
 * `base` (nothing captured since; a crash or a stop before the first record)
 * capture begins at the configured start; once a record follows, the store
 * resumes after its own last record as always. msgIds continue from the log:
 * subscribers keep reading the old records and then the new ones.
 *
 * A store without the file records its current start (active = 0 when its
 * log has records: it is not a reposition). The order (history removed
 * before the file is written) makes a crash in between harmless: the next
 * start sees the change again and removes the (still empty) history again.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ox_checkpoint.h"
#include "ox_durable.h"
#include "ox_store_priv.h"

#define REPOS_FILE "reposition"

struct repos_rec {
    char start[1024];
    uint64_t base;
    int active;
};

/* The configured start as text (compared, never parsed back). */
static void configured_start(const ox_store_config *c, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (c->start_gtid != NULL)
        snprintf(buf, cap, "gtid=%s", c->start_gtid);
    else if (c->has_start)
        ox_checkpoint_format(&c->start, buf, cap);
}

/* Returns 1 read, 0 no file, or a negative OX_E* code (eb set). */
static int repos_read(const char *dir, struct repos_rec *r, ox_errbuf *eb)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, REPOS_FILE);
    memset(r, 0, sizeof *r);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        if (errno == ENOENT)
            return 0;
        return -ox_errf(eb, OX_EIO, "%s: %s", path, strerror(errno));
    }
    char line[1100];
    int seen = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "start=", 6) == 0) {
            snprintf(r->start, sizeof r->start, "%.1000s", line + 6);
            seen |= 1;
        } else if (strncmp(line, "base=", 5) == 0) {
            r->base = strtoull(line + 5, NULL, 10);
            seen |= 2;
        } else if (strncmp(line, "active=", 7) == 0) {
            r->active = strcmp(line + 7, "1") == 0;
            seen |= 4;
        }
    }
    fclose(f);
    if (seen != 7)
        return -ox_errf(eb, OX_ECORRUPT, "%s: not a reposition record (start, base, active)", path);
    return 1;
}

static int repos_write(const char *dir, const struct repos_rec *r, ox_errbuf *eb)
{
    char text[1200];
    int n = snprintf(text, sizeof text, "start=%s\nbase=%" PRIu64 "\nactive=%d\n", r->start,
                     r->base, r->active);
    return ox_durable_create(dir, REPOS_FILE, text, (size_t)n, 0, NULL, eb);
}

int ox_store_reposition_check(struct ox_store *st, ox_errbuf *eb)
{
    const ox_store_config *c = st->cfg;
    char want[1000];
    configured_start(c, want, sizeof want);
    ox_log_info info;
    ox_log_info_get(st->log, &info);
    struct repos_rec r;
    int rc = repos_read(c->dir, &r, eb);
    if (rc < 0)
        return -rc;
    if (rc == 1 && strcmp(r.start, want) == 0) {
        st->repos_active = r.active && info.last_msg_id == r.base;
        st->repos_base = r.base;
        return 0;
    }
    if (rc == 0) {
        /* First start, or a store from before this file: not a move. */
        snprintf(r.start, sizeof r.start, "%s", want);
        r.base = info.last_msg_id;
        r.active = 0;
        st->repos_active = 0;
        return repos_write(c->dir, &r, eb);
    }
    char schema[4200];
    snprintf(schema, sizeof schema, "%s/schema", c->dir);
    struct stat sb;
    ox_errbuf ub;
    if (stat(schema, &sb) == 0 && (rc = ox_durable_unlink(schema, "history", 0, &ub)) != 0)
        return ox_errf(eb, rc, "reposition: removing the schema history: %s", ub.msg);
    ox_slog_printf(st->slog, OX_LL_WARN,
                   "reposition: the start position changed from \"%s\" to \"%s\": capture "
                   "resumes there after msgId %" PRIu64 " (the log is kept); the schema history "
                   "was reset and is snapshot again at the new position",
                   r.start, want, info.last_msg_id);
    snprintf(r.start, sizeof r.start, "%s", want);
    r.base = info.last_msg_id;
    r.active = 1;
    st->repos_active = 1;
    st->repos_base = r.base;
    return repos_write(c->dir, &r, eb);
}
