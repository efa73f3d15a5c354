/* ox_source.c - what every back end shares (the table of back ends by
 * name is ox_source_registry.c, a layer above them). */
#include "ox_source.h"

int64_t ox_source_dead_after_ms(int heartbeat_ms)
{
    if (heartbeat_ms <= 0)
        return 0;
    int64_t margin = heartbeat_ms / 2 > 1000 ? heartbeat_ms / 2 : 1000;
    return (int64_t)heartbeat_ms + margin;
}
