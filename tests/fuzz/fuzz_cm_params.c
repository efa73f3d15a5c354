/* fuzz_cm_params.c - CM form/query bodies (urlencoded), crawler names and
 * host ids (/host/revoke, --issue-supervisor-credential). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cm_internal.h"
#include "cm_names.h"
#include "cm_params.h"
#include "ox_assert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ox_cm_params ps;
    ox_errbuf eb;
    ox_cm_params_init(&ps);
    if (ox_cm_params_parse(&ps, (const char *)data, size, &eb) == 0) {
        ox_assert(ps.n <= OX_CM_PARAMS_MAX);
        for (int i = 0; i < ps.n; i++) {
            /* Decoded keys are non-empty and found again by lookup. */
            ox_assert(ps.p[i].key[0] != '\0');
            ox_assert(ox_cm_params_get(&ps, ps.p[i].key) == ps.p[i].value);
            char canon[32];
            if (cm_host_id_check(ps.p[i].value, canon)) {
                /* Only the canonical spelling passes. */
                ox_assert(strcmp(canon, ps.p[i].value) == 0);
                ox_assert(strchr(canon, '/') == NULL);
            }
            ox_cm_name n;
            if (ox_cm_name_parse(ps.p[i].value, &n, &eb) == 0) {
                /* A valid name never leads outside its directory. */
                ox_assert(strstr(ps.p[i].value, "..") == NULL);
                ox_assert(strchr(ps.p[i].value, '/') == NULL);
                char again[OX_CM_NAME_MAX + 1];
                ox_cm_name_format(n.host_ip, n.sv_port, n.topic, n.sub_id, again, sizeof again);
                ox_assert(strcmp(again, ps.p[i].value) == 0);
            }
        }
    }
    ox_cm_params_free(&ps);
    return 0;
}
