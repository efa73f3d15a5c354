/* test_cm_detail.c - the /crawler/detail object's exact shape, filters,
 * crawler.active and the route table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cm_internal.h"

/* The seed's crawler object, trimmed to one checkpoint pair. */
static const char seed[] =
    "{\"active\":true,\"cfg\":\"\",\"checkpoints\":[[{\"checkpoint\":\"10.10.10.1:1:1663049355:0:"
    "1663049354:1\",\"dataSource\":\"10.10.10.1:1\",\"dbIp\":16843009,\"dbIpString\":\"10.10.10."
    "1\","
    "\"dbPort\":1,\"fileIdx\":1663049355,\"gmt\":null,\"msgId\":1,\"offset\":0,\"timestamp\":"
    "1663049354},{\"checkpoint\":\"10.10.10.1:1:1663295962:662932:1663295962:3940774\","
    "\"dataSource\":\"10.10.10.1:1\",\"dbIp\":16843009,\"dbIpString\":\"10.10.10.1\",\"dbPort\":1,"
    "\"fileIdx\":1663295962,\"gmt\":null,\"msgId\":3940774,\"offset\":662932,\"timestamp\":"
    "1663295962}]],\"datasource\":\"10.10.10.1:1\",\"errMsg\":\"[Fri Sep 16 10:24:07 2022] "
    "DRC_500:Store p_4223***_source-000-0.0000000007 started "
    "successfully\\n\",\"location\":\"111\","
    "\"name\":\"10.10.10.1-7104:p_4223****_source-000-0:0000000007\",\"port\":17008,\"role\":"
    "\"master\",\"status\":0,\"userData\":\"\"}";

static struct ox_cm *make_cm(void)
{
    struct ox_cm *cm = calloc(1, sizeof *cm);
    cm->cfg.location = 111;
    cm->cfg.health_interval_ms = 1000;
    cm->cfg.health_slow_ms = 500;
    cm->cfg.health_max_skew_ms = 2000;
    cm->cfg.host_lost_ms = 10000;
    atomic_store(&cm->write_ok, 1);
    atomic_store(&cm->last_check_ms, (long long)cm_wall_ms());
    struct cm_host *h = calloc(1, sizeof *h);
    strcpy(h->id, "10.10.10.1-7104");
    strcpy(h->ip, "10.10.10.1");
    h->port = 7104;
    h->last_hb_ms = cm_wall_ms();
    cm_vec_insert(&cm->hosts, 0, h);
    struct cm_crawler *c = calloc(1, sizeof *c);
    strcpy(c->name, "10.10.10.1-7104:p_4223_source-000-0:0000000007");
    strcpy(c->host_id, h->id);
    strcpy(c->role, "master");
    strcpy(c->datasource, "10.10.10.1:1");
    strcpy(c->state, "running");
    c->port = 17008;
    c->user_data = strdup("");
    c->err_msg = strdup("[Fri Sep 16 10:24:07 2022] DRC_500:Store x started successfully\n");
    json_t *s = json_loads(seed, 0, NULL);
    c->checkpoints = json_incref(json_array_get(json_object_get(s, "checkpoints"), 0));
    json_decref(s);
    cm_vec_insert(&cm->crawlers, 0, c);
    return cm;
}

static void free_cm(struct ox_cm *cm)
{
    cm_state_free(cm);
    free(cm);
}

/* Every key of the seed's `a` is in `b` with the same JSON type,
 * recursively (values may differ). Only the crawler object itself may add
 * keys (docs/api.md lists them); nested objects match exactly. */
static void assert_shape(json_t *a, json_t *b, const char *where, int allow_extra)
{
    if (json_typeof(a) != json_typeof(b) && !(json_is_boolean(a) && json_is_boolean(b)))
        fail_msg("type differs at %s", where);
    if (json_is_object(a)) {
        if (allow_extra ? json_object_size(b) < json_object_size(a)
                        : json_object_size(a) != json_object_size(b))
            fail_msg("key count differs at %s: %zu vs %zu", where, json_object_size(a),
                     json_object_size(b));
        const char *k;
        json_t *v;
        json_object_foreach(a, k, v)
        {
            json_t *w = json_object_get(b, k);
            if (w == NULL)
                fail_msg("key %s missing at %s", k, where);
            assert_shape(v, w, k, 0);
        }
    } else if (json_is_array(a)) {
        assert_int_equal(json_array_size(a), json_array_size(b));
        for (size_t i = 0; i < json_array_size(a); i++)
            assert_shape(json_array_get(a, i), json_array_get(b, i), where, 0);
    }
}

static void test_seed_shape(void **state)
{
    struct ox_cm *cm = make_cm();
    ox_errbuf eb;
    json_t *d = cm_detail_json(cm, cm->crawlers.v[0], "", &eb);
    assert_non_null(d);
    json_t *s = json_loads(seed, 0, NULL);
    assert_shape(s, d, "crawler", 1);
    /* The added keys (docs/api.md), with their types. */
    assert_true(json_is_number(json_object_get(d, "delay")));
    assert_true(json_is_number(json_object_get(d, "rps")));
    assert_true(json_is_integer(json_object_get(d, "subscribers")));
    assert_true(json_is_integer(json_object_get(d, "restarts")));
    assert_string_equal(json_string_value(json_object_get(d, "location")), "111");
    assert_true(json_is_true(json_object_get(d, "active")));
    assert_int_equal(json_integer_value(json_object_get(d, "port")), 17008);
    /* Keys serialise in the seed's (sorted) order. */
    char *a = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
    assert_non_null(strstr(a, "{\"active\":true,\"cfg\":\"\",\"checkpoints\":[["));
    assert_non_null(strstr(a, "\"role\":\"master\","));
    assert_non_null(strstr(a, "\"status\":0,"));
    assert_non_null(strstr(a, "\"userData\":\"\"}"));
    free(a);
    json_decref(s);
    json_decref(d);
    free_cm(cm);
}

static void test_filters(void **state)
{
    struct ox_cm *cm = make_cm();
    ox_errbuf eb;
    json_t *d = cm_detail_json(cm, cm->crawlers.v[0], "status,errMsg", &eb);
    assert_non_null(d);
    assert_int_equal(json_object_size(d), 2);
    assert_non_null(json_object_get(d, "status"));
    assert_non_null(json_object_get(d, "errMsg"));
    json_decref(d);
    assert_null(cm_detail_json(cm, cm->crawlers.v[0], "status,password", &eb));
    assert_non_null(strstr(eb.msg, "password"));
    free_cm(cm);
}

/* A PostgreSQL store's report adds its slot's lag and wal_status; a
 * report without them (MySQL) adds nothing. */
static void test_slot_fields(void **state)
{
    struct ox_cm *cm = make_cm();
    struct cm_crawler *c = cm->crawlers.v[0];
    ox_errbuf eb;
    json_t *d = cm_detail_json(cm, c, "", &eb);
    assert_null(json_object_get(d, "sourceLagBytes"));
    assert_null(json_object_get(d, "sourceWalStatus"));
    json_decref(d);
    c->status_json = strdup("{\"status\":0,\"sourceLagBytes\":123456789012,"
                            "\"sourceWalStatus\":\"extended\",\"sourceWalStatusCode\":1}");
    d = cm_detail_json(cm, c, "", &eb);
    assert_int_equal(json_integer_value(json_object_get(d, "sourceLagBytes")), 123456789012LL);
    assert_string_equal(json_string_value(json_object_get(d, "sourceWalStatus")), "extended");
    json_decref(d);
    d = cm_detail_json(cm, c, "sourceWalStatus", &eb);
    assert_int_equal(json_object_size(d), 1);
    json_decref(d);
    free(c->status_json);
    c->status_json = strdup("{\"sourceWalStatus\":\"x\\\"y\"}"); /* not a word: omitted */
    d = cm_detail_json(cm, c, "", &eb);
    assert_null(json_object_get(d, "sourceWalStatus"));
    json_decref(d);
    free_cm(cm);
}

static void test_active_causes(void **state)
{
    struct ox_cm *cm = make_cm();
    assert_true(cm_active(cm));
    atomic_store(&cm->write_ok, 0); /* a failed write */
    assert_false(cm_active(cm));
    atomic_store(&cm->write_ok, 1);
    atomic_store(&cm->write_ms, 900); /* slow */
    assert_false(cm_active(cm));
    atomic_store(&cm->write_ms, 3);
    atomic_store(&cm->skew_ms, -2500); /* clocks apart */
    assert_false(cm_active(cm));
    atomic_store(&cm->skew_ms, 100);
    assert_true(cm_active(cm));
    atomic_store(&cm->last_check_ms, (long long)cm_wall_ms() - 10000); /* stalled */
    assert_false(cm_active(cm));
    free_cm(cm);
}

static void test_host_lost_status(void **state)
{
    struct ox_cm *cm = make_cm();
    struct cm_host *h = cm->hosts.v[0];
    const char *err;
    assert_int_equal(cm_crawler_status(cm, cm->crawlers.v[0], &err), 0);
    h->last_hb_ms = cm_wall_ms() - 60000;
    assert_int_equal(cm_crawler_status(cm, cm->crawlers.v[0], &err), CM_ST_HOST_LOST);
    free_cm(cm);
}

static void test_routes(void **state)
{
    int known;
    const struct cm_route *r = cm_route_find("GET", "/crawler/detail", &known);
    assert_non_null(r);
    assert_null(cm_route_find("POST", "/crawler/detail", &known));
    assert_true(known);
    assert_null(cm_route_find("GET", "/crawler/../etc", &known));
    assert_false(known);
    r = cm_route_find("POST", "/crawler/stop", &known);
    assert_non_null(r);
    assert_ptr_equal(r->fn, cm_route_find("POST", "/crawler/clear", &known)->fn);
    char allow[64];
    cm_route_allow("/crawler/clear", allow, sizeof allow);
    assert_string_equal(allow, "POST");
    static const char *const seed_paths[] = {"/crawler/clear", "/crawler/restore",
                                             "/crawler/destroy"};
    for (size_t i = 0; i < 3; i++) {
        r = cm_route_find("POST", seed_paths[i], &known);
        assert_non_null(r);
        assert_non_null(r->params);
        assert_string_equal(r->params[0], "crawler");
        assert_false(r->supervisor_auth);
    }
    /* Only the supervisor route needs the supervisor token and takes JSON. */
    for (int i = 0; i < cm_nroutes; i++)
        assert_int_equal(cm_routes[i].supervisor_auth, cm_routes[i].params == NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_shape),    cmocka_unit_test(test_filters),
        cmocka_unit_test(test_active_causes), cmocka_unit_test(test_host_lost_status),
        cmocka_unit_test(test_routes),        cmocka_unit_test(test_slot_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
