/* cm_api.h - request handlers of the CM's route table (src/cm only). */
#ifndef OX_CM_API_H
#define OX_CM_API_H

#include <stddef.h>

#include "cm_internal.h"

int cm_h_topic_create(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp);
int cm_h_topic_list(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp);
int cm_h_topic_update(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp);
int cm_h_topic_delete(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp);
int cm_h_crawler_start(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp);
int cm_h_crawler_clear(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp);
int cm_h_crawler_reposition(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp);
int cm_h_crawler_restore(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp);
int cm_h_crawler_destroy(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp);
int cm_h_crawler_detail(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp);
int cm_h_crawler_list(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp);
int cm_h_host_list(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp);
int cm_h_health(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp);
int cm_h_sv_heartbeat(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp);
int cm_h_sv_revoke(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp);
/* Operations (cm_metrics.c, cm_console.c). */
int cm_h_metrics(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp);
int cm_h_alert_list(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp);
int cm_h_crawler_history(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp);
int cm_h_crawler_log(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp);
int cm_h_console_file(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp);
int cm_h_console_login(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp);
int cm_h_console_stores(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp);
int cm_h_audit_list(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp);
int cm_h_console_logout(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp);
/* The request's path without the query string. */
const char *cm_req_path(struct cm_req *req);

/* Helpers shared by the handlers. */
int cm_text_ok(const char *s, size_t max);
/* Comma-separated db.table patterns of at most 4096 bytes. */
int cm_filter_list_ok(const char *s);
int cm_parse_port(const char *s, int *out);
/* Waits until pred(cm, name) holds (checked under the read lock) or
 * timeout_ms passes; returns 1 if it holds. */
int cm_wait_for(struct ox_cm *cm, const char *name, int (*pred)(struct ox_cm *cm, const char *name),
                int timeout_ms);

#endif
