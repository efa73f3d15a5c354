/*
 * cm_orphans.c - refusing an empty metaDB next to existing stores.
 *
 * A metaDB file that is missing or 0 bytes (lost, or replaced by mistake)
 * opens as a new, empty metaDB. Starting on it would orphan every store of
 * this host: their directories stay, nobody runs them, and new crawlers get
 * the old names again (sub ids restart at 1). So when the metaDB holds no
 * topic and no crawler while the in-process supervisor's stores/ directory
 * holds store directories, the CM refuses to start and says how to go on.
 * cm.metadb.empty.ok=true starts anyway: the old directories stay as they
 * are, and no new crawler ever runs in one of them (sv_store.c, owner).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cm_internal.h"
#include "ox_supervisor.h"

/* Counts store directories (with a store.properties or data/) in dir. */
static int count_stores(const char *dir, char *example, size_t cap)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[2400];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s/store.properties", dir, e->d_name);
        int found = stat(path, &st) == 0;
        snprintf(path, sizeof path, "%s/%s/data", dir, e->d_name);
        found |= stat(path, &st) == 0 && S_ISDIR(st.st_mode);
        if (found && n++ == 0)
            snprintf(example, cap, "%s", e->d_name);
    }
    closedir(d);
    return n;
}

int cm_orphans_check(struct ox_cm *cm, ox_errbuf *eb)
{
    if (!cm->cfg.run_supervisor || cm->topics.n > 0 || cm->crawlers.n > 0)
        return 0;
    int ok = 0;
    if (cm->cfg.props != NULL) {
        int rc = ox_props_get_bool(cm->cfg.props, "cm.metadb.empty.ok", 0, &ok, eb);
        if (rc != 0)
            return rc;
    }
    if (ok)
        return 0;
    struct ox_sv_config sc;
    char def_dir[1100], stores[1200], example[256] = "";
    snprintf(def_dir, sizeof def_dir, "%s/supervisor", cm->cfg.data_dir);
    int rc = ox_sv_config_load(cm->cfg.props, def_dir, &sc, eb);
    if (rc != 0)
        return rc;
    snprintf(stores, sizeof stores, "%s/stores", sc.dir);
    ox_sv_config_free(&sc);
    int n = count_stores(stores, example, sizeof example);
    if (n == 0)
        return 0;
    return ox_errf(eb, OX_ECONFIG,
                   "the metaDB is empty (no topic, no crawler) but %s holds %d store "
                   "director%s (e.g. %s): the metaDB was lost or replaced. Restore it from a "
                   "backup (stop nothing else; put the backup file in place as described in "
                   "docs/operations.md, Backup) and start the CM again. To start with an empty "
                   "metaDB anyway, set cm.metadb.empty.ok=true: the old directories are kept "
                   "as they are and never reused by new crawlers (move them away to free the "
                   "disk)",
                   stores, n, n == 1 ? "y" : "ies", example);
}
