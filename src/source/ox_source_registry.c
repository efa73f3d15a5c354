/* ox_source_registry.c - the table of capture back ends (ox_source_find).
 * It is the one file that knows every back end: a layer above them
 * (CMake target oxbow_source), so that each back end sees only ox_source.h. */
#include <stddef.h>
#include <string.h>

#include "ox_source.h"
#include "ox_mysql_source.h"
#include "ox_pg_source.h"

/* Every back end, by name; MariaDB is served by the MySQL one. */
static const struct {
    const char *name;
    const struct ox_source_ops *ops;
} backends[] = {
    {"mysql", &ox_mysql_source_ops},
    {"mariadb", &ox_mysql_source_ops},
    {"postgresql", &ox_pg_source_ops},
};

const struct ox_source_ops *ox_source_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
        if (strcmp(backends[i].name, name) == 0)
            return backends[i].ops;
    return NULL;
}
