/*
 * cm_api_update.c - POST /topic/update: change a topic's source password,
 * white/black lists or retention (store.clearer.outdated) in place.
 *
 * Parameters left out keep their value. The change is written to the metaDB
 * and the registry; supervisors see the new source on their next heartbeat
 * (at once: the generation is bumped) and restart every running store of the
 * topic with it. A store resumes from the end of its own change log, so a
 * restart loses nothing and repeats nothing. The password travels only in
 * the request body, never in the answer; with curl, read it from a file
 * (--data-urlencode password@FILE) so that it is not in any argv.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_api.h"
#include "ox_alloc.h"

int cm_h_topic_update(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp)
{
    ox_errbuf eb;
    const char *name = cm_req_param(req, "topic");
    const char *pw = cm_req_param(req, "password");
    const char *wl = cm_req_param(req, "whiteList");
    const char *bl = cm_req_param(req, "blackList");
    const char *rs = cm_req_param(req, "retention");
    if (name == NULL)
        return cm_resp_error(resp, 400, "missing parameter 'topic'");
    if (ox_cm_topic_validate(name, &eb) != 0)
        return cm_resp_error(resp, 400, "%s", eb.msg);
    if (pw == NULL && wl == NULL && bl == NULL && rs == NULL)
        return cm_resp_error(resp, 400,
                             "nothing to update: give password, whiteList, blackList or retention");
    if (pw != NULL && !cm_text_ok(pw, 1024))
        return cm_resp_error(resp, 400,
                             "parameter 'password' has control characters (a file read with "
                             "--data-urlencode password@FILE must not end with a newline)");
    if ((wl && !cm_filter_list_ok(wl)) || (bl && !cm_filter_list_ok(bl)))
        return cm_resp_error(resp, 400,
                             "whiteList/blackList must be comma-separated db.table patterns");
    int64_t retention = -1;
    if (rs != NULL) {
        char *end;
        long long v = strtoll(rs, &end, 10);
        if (*rs == '\0' || *end != '\0' || v < 0 || v > 86400LL * 3650)
            return cm_resp_error(resp, 400,
                                 "retention must be seconds, 1-315360000 (0 = the store default)");
        retention = v;
    }

    pthread_mutex_lock(&cm->mut_lock);
    pthread_rwlock_rdlock(&cm->lock);
    struct cm_topic *t = cm_topic_get(cm, name);
    char *npw = NULL, *nwl = NULL, *nbl = NULL;
    int64_t nret = 0;
    if (t != NULL) {
        npw = ox_xstrdup(pw ? pw : t->password);
        nwl = ox_xstrdup(wl ? wl : t->whitelist);
        nbl = ox_xstrdup(bl ? bl : t->blacklist);
        nret = retention >= 0 ? retention : t->retention_s;
    }
    pthread_rwlock_unlock(&cm->lock);
    if (t == NULL) {
        pthread_mutex_unlock(&cm->mut_lock);
        return cm_resp_error(resp, 404, "unknown topic '%s'", name);
    }
    char rets[24];
    snprintf(rets, sizeof rets, "%" PRId64, nret);
    const char *p[5] = {name, npw, nwl, nbl, rets};
    if (cm_db_exec(cm, OX_MDB_TOPIC_UPDATE, 5, p, NULL, NULL, &eb) != 0) {
        pthread_mutex_unlock(&cm->mut_lock);
        free(npw);
        free(nwl);
        free(nbl);
        return cm_resp_error(resp, 503, "metaDB write failed: %s", eb.msg);
    }
    json_t *restarting = json_array();
    pthread_rwlock_wrlock(&cm->lock);
    t = cm_topic_get(cm, name);
    if (t != NULL) {
        free(t->password);
        free(t->whitelist);
        free(t->blacklist);
        t->password = npw;
        t->whitelist = nwl;
        t->blacklist = nbl;
        npw = nwl = nbl = NULL;
        t->retention_s = nret;
    }
    for (int i = 0; i < cm->crawlers.n; i++) {
        struct cm_crawler *c = cm->crawlers.v[i];
        if (strcmp(c->topic, name) == 0 && c->desired == CM_RUN)
            json_array_append_new(restarting, json_string(c->name));
    }
    json_t *out = json_pack("{s:{s:s,s:s,s:s,s:I},s:o}", "topic", "topic", name, "whiteList",
                            t ? t->whitelist : "", "blackList", t ? t->blacklist : "", "retention",
                            (json_int_t)nret, "restarting", restarting);
    pthread_rwlock_unlock(&cm->lock);
    pthread_mutex_unlock(&cm->mut_lock);
    free(npw);
    free(nwl);
    free(nbl);
    cm_bump_gen(cm);
    return cm_resp_ok(resp, out);
}
