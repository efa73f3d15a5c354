/*
 * cm_api_sv.c - POST /supervisor/heartbeat: the supervisor protocol.
 *
 * Supervisors pull their desired state; the CM never connects to them. Each
 * heartbeat is a long poll:
 *
 * request (JSON, bearer token required):
 *   {"host":"127.0.0.1","port":7100,"gen":41,"waitMs":1000,"storePortBase":17000,
 *    "stores":[{"name":"...","state":"running|starting|stopped|crashed|failed|destroyed",
 *               "port":17000,"pid":123,"restarts":0,"error":"...",
 *               "status":{...the store's /v1/status...}|null}]}
 * response:
 *   {"isSuccess":true,"hostId":"127.0.0.1-7100","gen":42,
 *    "stores":[{"name":"...","desired":"running|stopped|destroy","topic":"...",
 *               "checkpoint":"...","port":17000,"createdMs":1700000000000,"source":{"type":"mysql","host":"...","port":3306,
 *               "user":"...","password":"...","whitelist":"...","blacklist":"..."}}]}
 *
 * "port" is the store's port, allocated by the CM from the host's
 * storePortBase and unique per host in the metaDB (0 for a crawler created
 * before that: the supervisor picks one). "createdMs" identifies this
 * crawler among crawlers that ever had its name (see sv_store.c, owner).
 *
 * When the supervisor's `gen` equals the CM's current desired-state
 * generation, the CM holds the answer until the generation changes or waitMs
 * (at most 5000) passes, so changes reach the supervisor at once. This is
 * the only response that carries source passwords; it needs the supervisor
 * token (cm.auth.token, or the token the CM generated in its data dir).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cm_api.h"
#include "ox_alloc.h"
#include "ox_time.h"
#include "ox_checkpoint.h"

static int register_host(struct ox_cm *cm, const char *id, const char *ip, int port, ox_errbuf *eb)
{
    pthread_mutex_lock(&cm->mut_lock);
    pthread_rwlock_rdlock(&cm->lock);
    int known = cm_host_get(cm, id) != NULL;
    pthread_rwlock_unlock(&cm->lock);
    int rc = 0;
    if (!known) {
        char ports[16], ms[24];
        int64_t now = cm_wall_ms();
        snprintf(ports, sizeof ports, "%d", port);
        snprintf(ms, sizeof ms, "%" PRId64, now);
        const char *p[4] = {id, ip, ports, ms};
        rc = cm_db_exec(cm, OX_MDB_HOST_UPSERT, 4, p, NULL, NULL, eb);
        if (rc == 0) {
            struct cm_host *h = ox_xcalloc(1, sizeof *h);
            snprintf(h->id, sizeof h->id, "%s", id);
            snprintf(h->ip, sizeof h->ip, "%s", ip);
            h->port = port;
            h->last_hb_ms = now;
            pthread_rwlock_wrlock(&cm->lock);
            int pos;
            if (!cm_vec_find(&cm->hosts, id, &pos))
                cm_vec_insert(&cm->hosts, pos, h);
            else
                free(h);
            pthread_rwlock_unlock(&cm->lock);
        }
    }
    pthread_mutex_unlock(&cm->mut_lock);
    return rc;
}

/* Removes the metadata of a crawler its own supervisor reported destroyed. */
static void finish_destroy(struct ox_cm *cm, const char *host_id, const char *name)
{
    ox_errbuf eb;
    pthread_mutex_lock(&cm->mut_lock);
    pthread_rwlock_rdlock(&cm->lock);
    struct cm_crawler *c = cm_crawler_get(cm, name);
    int go = c != NULL && c->desired == CM_DESTROY && strcmp(c->host_id, host_id) == 0;
    pthread_rwlock_unlock(&cm->lock);
    const char *p[1] = {name};
    if (go && cm_db_exec(cm, OX_MDB_CRAWLER_DELETE, 1, p, NULL, NULL, &eb) == 0) {
        pthread_rwlock_wrlock(&cm->lock);
        int pos;
        if (cm_vec_find(&cm->crawlers, name, &pos))
            cm_crawler_free(cm_vec_remove(&cm->crawlers, pos));
        pthread_rwlock_unlock(&cm->lock);
    }
    pthread_mutex_unlock(&cm->mut_lock);
    if (go)
        cm_bump_gen(cm);
}

static void long_poll(struct ox_cm *cm, uint64_t gen, int wait_ms)
{
    if (wait_ms <= 0)
        return;
    if (wait_ms > 5000)
        wait_ms = 5000;
    struct timespec deadline = ox_time_deadline(CLOCK_REALTIME, wait_ms);
    pthread_mutex_lock(&cm->cond_mu);
    int rc = 0;
    while (cm->gen == gen && rc == 0 && !atomic_load(&cm->stopping))
        rc = pthread_cond_timedwait(&cm->cond, &cm->cond_mu, &deadline);
    pthread_mutex_unlock(&cm->cond_mu);
}

int cm_h_sv_heartbeat(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp)
{
    size_t len;
    const char *body = cm_req_body(req, &len);
    json_error_t jerr;
    json_t *in = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (in == NULL)
        return cm_resp_error(resp, 400, "heartbeat body: %s at offset %d", jerr.text,
                             jerr.position);
    const char *ip_s = json_string_value(json_object_get(in, "host"));
    json_t *port_j = json_object_get(in, "port");
    json_t *stores = json_object_get(in, "stores");
    json_int_t gen_in = json_integer_value(json_object_get(in, "gen"));
    json_int_t wait_ms = json_integer_value(json_object_get(in, "waitMs"));
    uint32_t a;
    if (ip_s == NULL || ox_ipv4_parse(ip_s, strlen(ip_s), &a) != 0 || !json_is_integer(port_j) ||
        json_integer_value(port_j) < 1 || json_integer_value(port_j) > 65535 ||
        (stores != NULL && !json_is_array(stores))) {
        json_decref(in);
        return cm_resp_error(resp, 400, "heartbeat needs host (IPv4), port and a stores array");
    }
    char ip[16], id[32];
    ox_ipv4_format(a, ip);
    int port = (int)json_integer_value(port_j);
    snprintf(id, sizeof id, "%s-%d", ip, port);
    if (strcmp(id, cm_req_sv_host(req)) != 0) {
        json_decref(in);
        return cm_resp_error(resp, 403, "this credential is for host %s, not %s",
                             cm_req_sv_host(req), id);
    }
    ox_errbuf eb;
    if (register_host(cm, id, ip, port, &eb) != 0) {
        json_decref(in);
        return cm_resp_error(resp, 503, "metaDB write failed: %s", eb.msg);
    }
    const char *sh = json_string_value(json_object_get(in, "statusHost"));
    const char *lt = json_string_value(json_object_get(in, "logToken"));
    uint32_t sa;
    if (sh != NULL && lt != NULL && ox_ipv4_parse(sh, strlen(sh), &sa) == 0 && strlen(lt) == 64 &&
        strspn(lt, "0123456789abcdef") == 64) {
        pthread_rwlock_wrlock(&cm->lock);
        struct cm_host *h = cm_host_get(cm, id);
        if (h != NULL) {
            ox_ipv4_format(sa, h->status_ip);
            memcpy(h->log_token, lt, 65);
        }
        pthread_rwlock_unlock(&cm->lock);
    }
    json_t *base_j = json_object_get(in, "storePortBase");
    if (json_is_integer(base_j) && json_integer_value(base_j) >= 1024 &&
        json_integer_value(base_j) <= 65000) {
        pthread_rwlock_wrlock(&cm->lock);
        struct cm_host *h = cm_host_get(cm, id);
        if (h != NULL)
            h->store_port_base = (int)json_integer_value(base_j);
        pthread_rwlock_unlock(&cm->lock);
    }
    cm_ops_host_system(cm, id, json_object_get(in, "system"));
    if (stores != NULL) {
        cm_state_apply_report(cm, id, stores);
        size_t i;
        json_t *s;
        json_array_foreach(stores, i, s)
        {
            const char *state = json_string_value(json_object_get(s, "state"));
            const char *name = json_string_value(json_object_get(s, "name"));
            if (state && name && strcmp(state, "destroyed") == 0)
                finish_destroy(cm, id, name);
        }
        cm_bump_obs(cm);
    }
    json_decref(in);
    long_poll(cm, (uint64_t)gen_in, (int)wait_ms);

    pthread_mutex_lock(&cm->cond_mu);
    uint64_t gen = cm->gen;
    pthread_mutex_unlock(&cm->cond_mu);
    json_t *arr = json_array();
    pthread_rwlock_rdlock(&cm->lock);
    for (int i = 0; i < cm->crawlers.n; i++) {
        struct cm_crawler *c = cm->crawlers.v[i];
        if (strcmp(c->host_id, id) != 0)
            continue;
        struct cm_topic *t = cm_topic_get(cm, c->topic);
        if (t == NULL)
            continue;
        const char *desired = c->desired == CM_RUN    ? "running"
                              : c->desired == CM_STOP ? "stopped"
                                                      : "destroy";
        json_t *src = json_pack("{s:s,s:s,s:i,s:s,s:s,s:s,s:s}", "type", t->db_type, "host",
                                t->host, "port", t->port, "user", t->user, "password", t->password,
                                "whitelist", t->whitelist, "blacklist", t->blacklist);
        if (t->database[0])
            json_object_set_new(src, "database", json_string(t->database));
        json_object_set_new(src, "retention", json_integer((json_int_t)t->retention_s));
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:i,s:I,s:o}", "name", c->name,
                                             "desired", desired, "topic", c->topic, "checkpoint",
                                             c->checkpoint, "port", c->port, "createdMs",
                                             (json_int_t)c->created_ms, "source", src));
    }
    pthread_rwlock_unlock(&cm->lock);
    json_t *o = json_object();
    json_object_set_new(o, "hostId", json_string(id));
    json_object_set_new(o, "gen", json_integer((json_int_t)gen));
    json_object_set_new(o, "stores", arr);
    return cm_resp_ok(resp, o);
}

int cm_h_sv_revoke(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp)
{
    const char *host = cm_req_param(req, "host");
    char canon[32];
    if (host == NULL || !cm_host_id_check(host, canon))
        return cm_resp_error(resp, 400, "host must be <IPv4>-<port>, e.g. 10.0.0.2-7100");
    ox_errbuf eb;
    int rc = cm_cred_revoke(cm, canon, &eb);
    if (rc == OX_ENOENT)
        return cm_resp_error(resp, 404, "host %s has no supervisor credential", canon);
    if (rc != 0)
        return cm_resp_error(resp, 503, "metaDB write failed: %s", eb.msg);
    json_t *o = json_object();
    json_object_set_new(o, "host", json_string(canon));
    return cm_resp_ok(resp, o);
}
