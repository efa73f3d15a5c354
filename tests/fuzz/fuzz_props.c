/* fuzz_props.c - properties files (the store's and the CM's configuration). */
#include <stdint.h>
#include <string.h>

#include "ox_assert.h"
#include "ox_props.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ox_props *p = NULL;
    ox_errbuf eb;
    if (ox_props_parse((const char *)data, size, "fuzz", &p, &eb) != 0) {
        ox_assert(p == NULL && eb.msg[0] != '\0');
        return 0;
    }
    /* Every parsed key must be found again and typed getters must not crash. */
    for (size_t i = 0; i < ox_props_count(p); i++) {
        const char *k = ox_props_key(p, i);
        ox_assert(ox_props_get(p, k) == ox_props_value(p, i));
        int64_t v;
        int b;
        static const char *const ch[] = {"a", "b", NULL};
        (void)ox_props_get_int(p, k, 0, INT64_MIN, INT64_MAX, &v, &eb);
        (void)ox_props_get_bool(p, k, 0, &b, &eb);
        (void)ox_props_get_enum(p, k, ch, 0, &b, &eb);
    }
    static const char *const allowed[] = {"store.*", "source.port", NULL};
    (void)ox_props_check_keys(p, allowed, &eb);
    ox_props_free(p);
    return 0;
}
