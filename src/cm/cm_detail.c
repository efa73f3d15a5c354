/*
 * cm_detail.c - the crawler object of /crawler/detail, in the seed's shape:
 *
 *   {"active":true,"cfg":"","checkpoints":[[earliest,latest]],
 *    "datasource":"ip:port","errMsg":"...","location":"111","name":"...",
 *    "port":17008,"role":"master","status":0,"userData":""}
 *
 * checkpoints holds one list per datasource (oxbow stores have exactly one)
 * with the earliest and the latest stored checkpoint objects as the store
 * reports them in /v1/status (each carries dbIp and dbIpString); it is [] until
 * the store has reported once. cfg is always "": the configuration holds
 * secrets and is never echoed.
 *
 * The seed's keys come first and keep their types; issue 9 adds (after
 * them, in the same camelCase): delay (seconds behind the source, 0 unless
 * running), rps (records per second, 0 unless running), subscribers,
 * restarts (the supervisor's count of unplanned restarts), lastCrash (the
 * last crash cause, e.g. "killed by signal 9", or null) and lastCrashMs
 * (when the CM saw it, 0 if never). A crash stays in lastCrash after the
 * store is running again: errMsg then says "started successfully", the
 * crash is not lost.
 *
 * A PostgreSQL store adds (issue 10, only when its report has them):
 * sourceLagBytes (WAL its replication slot keeps: the server's end minus
 * the slot's confirmed position) and sourceWalStatus (the slot's
 * wal_status: "reserved", "extended", "unreserved" or "lost"), as of the
 * store's last report, also while it is stopped: a stopped store's slot
 * still pins WAL.
 */
#include <stdio.h>
#include <string.h>

#include "cm_internal.h"
#include "cm_ops.h"

static const char *const fields[] = {"active",
                                     "cfg",
                                     "checkpoints",
                                     "datasource",
                                     "errMsg",
                                     "location",
                                     "name",
                                     "port",
                                     "role",
                                     "status",
                                     "userData",
                                     "delay",
                                     "rps",
                                     "subscribers",
                                     "restarts",
                                     "lastCrash",
                                     "lastCrashMs",
                                     "sourceLagBytes",
                                     "sourceWalStatus",
                                     NULL};

/* Returns 1 if `name` (len bytes) is wanted by `filters`. */
static int wanted(const char *filters, const char *name)
{
    if (filters == NULL || filters[0] == '\0')
        return 1;
    size_t n = strlen(name);
    const char *p = filters;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && memcmp(p, name, n) == 0)
            return 1;
        if (e == NULL)
            break;
        p = e + 1;
    }
    return 0;
}

int cm_detail_filters_check(const char *filters, ox_errbuf *eb)
{
    if (filters == NULL)
        return 0;
    const char *p = filters;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        int ok = 0;
        for (int i = 0; fields[i] && !ok; i++)
            ok = strlen(fields[i]) == l && memcmp(fields[i], p, l) == 0;
        if (!ok && l > 0)
            return ox_errf(eb, OX_EINVAL, "unknown field '%.*s' in filters", (int)(l > 64 ? 64 : l),
                           p);
        if (e == NULL)
            break;
        p = e + 1;
    }
    return 0;
}

/* The store's report of its replication slot (PostgreSQL), if it has one:
 * sourceLagBytes as a number and sourceWalStatus as a word, scanned like
 * cm_ops_status_num (the store writes both flat). */
static void put_slot(json_t *o, const char *status_json, const char *filters)
{
    if (status_json == NULL)
        return;
    if (wanted(filters, "sourceLagBytes") && strstr(status_json, "\"sourceLagBytes\":"))
        json_object_set_new(
            o, "sourceLagBytes",
            json_integer((json_int_t)cm_ops_status_num(status_json, "sourceLagBytes")));
    const char *key = "\"sourceWalStatus\":\"";
    const char *p = strstr(status_json, key);
    if (!wanted(filters, "sourceWalStatus") || p == NULL)
        return;
    p += strlen(key);
    size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz");
    if (n > 0 && n < 32 && p[n] == '"')
        json_object_set_new(o, "sourceWalStatus", json_stringn(p, n));
}

json_t *cm_detail_json(const struct ox_cm *cm, const struct cm_crawler *c, const char *filters,
                       ox_errbuf *eb)
{
    if (cm_detail_filters_check(filters, eb) != 0)
        return NULL;
    json_t *o = json_object();
    const char *err = "";
    int status = cm_crawler_status(cm, c, &err);
    if (wanted(filters, "active"))
        json_object_set_new(o, "active", json_boolean(cm_active(cm)));
    if (wanted(filters, "cfg"))
        json_object_set_new(o, "cfg", json_string(""));
    if (wanted(filters, "checkpoints")) {
        json_t *outer = json_array();
        if (c->checkpoints != NULL)
            json_array_append(outer, c->checkpoints);
        json_object_set_new(o, "checkpoints", outer);
    }
    if (wanted(filters, "datasource"))
        json_object_set_new(o, "datasource", json_string(c->datasource));
    if (wanted(filters, "errMsg"))
        json_object_set_new(o, "errMsg", json_string(err));
    if (wanted(filters, "location")) {
        char loc[16];
        snprintf(loc, sizeof loc, "%d", cm->cfg.location);
        json_object_set_new(o, "location", json_string(loc));
    }
    if (wanted(filters, "name"))
        json_object_set_new(o, "name", json_string(c->name));
    if (wanted(filters, "port"))
        json_object_set_new(o, "port", json_integer(c->port));
    if (wanted(filters, "role"))
        json_object_set_new(o, "role", json_string(c->role));
    if (wanted(filters, "status"))
        json_object_set_new(o, "status", json_integer(status));
    if (wanted(filters, "userData"))
        json_object_set_new(o, "userData", json_string(c->user_data ? c->user_data : ""));
    /* Figures from the store's last report count only while it runs. */
    int live = status == 0 && strcmp(c->state, "running") == 0;
    if (wanted(filters, "delay"))
        json_object_set_new(o, "delay",
                            json_real(live ? cm_ops_status_num(c->status_json, "delay") : 0));
    if (wanted(filters, "rps"))
        json_object_set_new(
            o, "rps", json_real(live ? cm_ops_status_num(c->status_json, "recordsPerSec") : 0));
    if (wanted(filters, "subscribers"))
        json_object_set_new(
            o, "subscribers",
            json_integer(live ? (json_int_t)cm_ops_status_num(c->status_json, "subscribers") : 0));
    if (wanted(filters, "restarts"))
        json_object_set_new(o, "restarts", json_integer(c->restarts));
    if (wanted(filters, "lastCrash"))
        json_object_set_new(o, "lastCrash",
                            c->last_crash ? json_string(c->last_crash) : json_null());
    if (wanted(filters, "lastCrashMs"))
        json_object_set_new(o, "lastCrashMs", json_integer(c->last_crash_ms));
    put_slot(o, c->status_json, filters);
    return o;
}
