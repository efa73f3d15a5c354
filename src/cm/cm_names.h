/*
 * cm_names.h - validation of topic and crawler names before they reach a
 * path, a process or the metaDB.
 *
 * A topic is 1-64 bytes of [A-Za-z0-9_.-], not starting with '.' or '-' and
 * without "..". A crawler (store) name is
 *     <hostIp>-<supervisorPort>:<topic>-000-0:<subId as 10 digits>
 * for example "127.0.0.1-7100:orders-000-0:0000000001". Names are used as
 * directory names by the supervisor, so the rules exclude '/', NUL and "..".
 */
#ifndef OX_CM_NAMES_H
#define OX_CM_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "ox_err.h"

#define OX_CM_TOPIC_MAX 64
#define OX_CM_NAME_MAX  200

typedef struct ox_cm_name {
    char host_ip[16];
    int sv_port;
    char topic[OX_CM_TOPIC_MAX + 1];
    int64_t sub_id;
} ox_cm_name;

/* Returns 0 if `topic` is a valid topic name, else OX_EINVAL with the reason
 * in `eb`. Never logs. Thread-safe. */
int ox_cm_topic_validate(const char *topic, ox_errbuf *eb);

/* Parses and validates a crawler name. Returns 0 or OX_EINVAL (reason in `eb`).
 * `out` may be NULL. Never logs. Thread-safe. */
int ox_cm_name_parse(const char *name, ox_cm_name *out, ox_errbuf *eb);

/* Formats a crawler name into buf (at least OX_CM_NAME_MAX + 1 bytes).
 * Returns the length. */
size_t ox_cm_name_format(const char *host_ip, int sv_port, const char *topic, int64_t sub_id,
                         char *buf, size_t cap);

/* Returns 1 if `s` is a valid host id "<ipv4>-<port>", filling ip and port. */
int ox_cm_host_id_parse(const char *s, char ip[16], int *port);

#endif
