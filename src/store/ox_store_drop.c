/* ox_store_drop.c - removes what a store created on its source (see ox_store.h). */
#include <string.h>

#include "ox_source.h"
#include "ox_store.h"
#include "ox_store_config.h"

int ox_store_drop_source(const char *config_path, ox_errbuf *eb)
{
    ox_store_config *c = NULL;
    int rc = ox_store_config_load(config_path, &c, eb);
    if (rc != 0)
        return rc;
    const struct ox_source_ops *ops = ox_source_find(c->source_type);
    if (ops != NULL && ops->drop != NULL) {
        ox_source_config sc;
        ox_store_config_source(c, &sc);
        rc = ops->drop(&sc, eb);
    }
    ox_store_config_free(c);
    return rc;
}
