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
 */
#include <stdio.h>
#include <string.h>

#include "cm_internal.h"

static const char *const fields[] = {"active", "cfg",      "checkpoints", "datasource",
                                     "errMsg", "location", "name",        "port",
                                     "role",   "status",   "userData",    NULL};

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
    return o;
}
