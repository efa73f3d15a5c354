/* cm_names.c - topic and crawler name rules (see cm_names.h). */
#include "cm_names.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ox_checkpoint.h"

int ox_cm_topic_validate(const char *t, ox_errbuf *eb)
{
    size_t n = t ? strlen(t) : 0;
    if (n == 0)
        return ox_errf(eb, OX_EINVAL, "topic is empty");
    if (n > OX_CM_TOPIC_MAX)
        return ox_errf(eb, OX_EINVAL, "topic is longer than %d bytes", OX_CM_TOPIC_MAX);
    if (t[0] == '.' || t[0] == '-')
        return ox_errf(eb, OX_EINVAL, "topic must not start with '%c'", t[0]);
    if (strstr(t, "..") != NULL)
        return ox_errf(eb, OX_EINVAL, "topic must not contain \"..\"");
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return ox_errf(eb, OX_EINVAL, "topic has a bad character at offset %zu", i);
    }
    return 0;
}

static int parse_port(const char *s, size_t len, int *out)
{
    if (len == 0 || len > 5 || s[0] == '0')
        return -1;
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < 1 || v > 65535)
        return -1;
    *out = v;
    return 0;
}

int ox_cm_host_id_parse(const char *s, char ip[16], int *port)
{
    const char *dash = strchr(s, '-');
    uint32_t a;
    if (dash == NULL || ox_ipv4_parse(s, (size_t)(dash - s), &a) != 0)
        return 0;
    if (parse_port(dash + 1, strlen(dash + 1), port) != 0)
        return 0;
    ox_ipv4_format(a, ip);
    return 1;
}

int ox_cm_name_parse(const char *name, ox_cm_name *out, ox_errbuf *eb)
{
    static const char suffix[] = "-000-0";
    size_t n = name ? strlen(name) : 0;
    if (n == 0)
        return ox_errf(eb, OX_EINVAL, "crawler name is empty");
    if (n > OX_CM_NAME_MAX)
        return ox_errf(eb, OX_EINVAL, "crawler name is longer than %d bytes", OX_CM_NAME_MAX);
    const char *c1 = strchr(name, ':');
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c1 == NULL || c2 == NULL || strchr(c2 + 1, ':') != NULL)
        return ox_errf(eb, OX_EINVAL,
                       "crawler name must be <hostIp>-<port>:<topic>-000-0:<10 digits>");
    ox_cm_name tmp;
    char hostid[32];
    size_t hl = (size_t)(c1 - name);
    if (hl >= sizeof hostid)
        return ox_errf(eb, OX_EINVAL, "crawler name has a bad host part");
    memcpy(hostid, name, hl);
    hostid[hl] = '\0';
    if (!ox_cm_host_id_parse(hostid, tmp.host_ip, &tmp.sv_port))
        return ox_errf(eb, OX_EINVAL, "crawler name has a bad host part (want <ipv4>-<port>)");
    /* Host part must be canonical so that one store has exactly one name. */
    char canon[32];
    snprintf(canon, sizeof canon, "%s-%d", tmp.host_ip, tmp.sv_port);
    if (strcmp(canon, hostid) != 0)
        return ox_errf(eb, OX_EINVAL, "crawler name has a non-canonical host part");
    size_t tl = (size_t)(c2 - c1 - 1);
    if (tl <= sizeof suffix - 1 || memcmp(c2 - (sizeof suffix - 1), suffix, sizeof suffix - 1))
        return ox_errf(eb, OX_EINVAL, "crawler name's middle part must end in -000-0");
    tl -= sizeof suffix - 1;
    if (tl > OX_CM_TOPIC_MAX)
        return ox_errf(eb, OX_EINVAL, "crawler name has a bad topic");
    memcpy(tmp.topic, c1 + 1, tl);
    tmp.topic[tl] = '\0';
    ox_errbuf teb;
    if (ox_cm_topic_validate(tmp.topic, &teb) != 0)
        return ox_errf(eb, OX_EINVAL, "crawler name has a bad topic: %s", teb.msg);
    const char *d = c2 + 1;
    if (strlen(d) != 10)
        return ox_errf(eb, OX_EINVAL, "crawler name must end in a 10-digit subscription id");
    int64_t sub = 0;
    for (int i = 0; i < 10; i++) {
        if (d[i] < '0' || d[i] > '9')
            return ox_errf(eb, OX_EINVAL, "crawler name must end in a 10-digit subscription id");
        sub = sub * 10 + (d[i] - '0');
    }
    tmp.sub_id = sub;
    if (out)
        *out = tmp;
    return 0;
}

size_t ox_cm_name_format(const char *host_ip, int sv_port, const char *topic, int64_t sub_id,
                         char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s-%d:%s-000-0:%010" PRId64, host_ip, sv_port, topic, sub_id);
    return n < 0 ? 0 : (size_t)n;
}
