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
 * cm.metadb.adopt=true rebuilds the metaDB from the directories instead:
 * each store.properties gives its crawler (name, port, start checkpoint)
 * and topic (source, user, lists; the password from source.password), the
 * owner file the crawler's creation time, so the supervisor runs each store
 * in its own directory again. What the directories do not hold is lost:
 * userData, and the desired state (adopted crawlers are running).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <inttypes.h>
#include <stdlib.h>

#include "cm_internal.h"
#include "ox_secret.h"

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

/* The crawler's creation time: the owner file's, else store.properties'. */
static int64_t created_of(const char *sdir)
{
    char path[2400], text[256];
    snprintf(path, sizeof path, "%s/owner", sdir);
    FILE *f = fopen(path, "re");
    if (f != NULL) {
        size_t n = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[n] = '\0';
        const char *c = strstr(text, "createdMs=");
        if (c != NULL)
            return strtoll(c + 10, NULL, 10);
    }
    struct stat st;
    snprintf(path, sizeof path, "%s/store.properties", sdir);
    if (stat(path, &st) != 0)
        return 0;
    return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

/* Rebuilds one crawler (and its topic, once) from its directory. */
static int adopt_one(struct ox_cm *cm, const char *stores, const char *name, ox_errbuf *eb)
{
    char sdir[1500], path[1600];
    ox_cm_name nm;
    if (ox_cm_name_parse(name, &nm, eb) != 0)
        return ox_errf(eb, OX_EINVAL, "%s/%s: not a store name", stores, name);
    snprintf(sdir, sizeof sdir, "%s/%s", stores, name);
    snprintf(path, sizeof path, "%s/store.properties", sdir);
    ox_props *p = NULL;
    char *pw = NULL;
    int rc = ox_props_load_file(path, &p, eb);
    if (rc != 0)
        return rc;
    const char *pwf = ox_props_get_str(p, "source.password.file", NULL);
    if (pwf == NULL || (rc = ox_secret_read_file("source.password.file", pwf, &pw, eb)) != 0) {
        if (rc == 0)
            rc = ox_errf(eb, OX_ECONFIG, "%s: no source.password.file", path);
        goto out;
    }
    int64_t sport = 0, port = 0;
    ox_props_get_int(p, "source.port", 3306, 1, 65535, &sport, NULL);
    ox_props_get_int(p, "store.port", 0, 0, 65535, &port, NULL);
    int64_t created = created_of(sdir);
    char ports[16], sports[16], subs[24], next[24], ms[24], host_id[32];
    snprintf(ports, sizeof ports, "%d", (int)port);
    snprintf(sports, sizeof sports, "%d", (int)sport);
    snprintf(subs, sizeof subs, "%" PRId64, nm.sub_id);
    snprintf(next, sizeof next, "%" PRId64, nm.sub_id + 1);
    snprintf(ms, sizeof ms, "%" PRId64, created);
    snprintf(host_id, sizeof host_id, "%s-%d", nm.host_ip, nm.sv_port);
    struct cm_topic *t = cm_topic_get(cm, nm.topic);
    if (t == NULL) {
        const char *tp[11] = {nm.topic,
                              ox_props_get_str(p, "source.type", "mysql"),
                              ox_props_get_str(p, "source.host", ""),
                              sports,
                              ox_props_get_str(p, "source.user", ""),
                              pw,
                              ox_props_get_str(p, "store.whitelist", ""),
                              ox_props_get_str(p, "store.blacklist", ""),
                              next,
                              ms,
                              ox_props_get_str(p, "source.database", "")};
        rc = cm_db_exec(cm, OX_MDB_TOPIC_INSERT, 11, tp, NULL, NULL, eb);
        if (rc == 0)
            rc = cm_state_load(cm, eb);
        if (rc != 0)
            goto out;
        t = cm_topic_get(cm, nm.topic);
    }
    if (t != NULL && t->next_sub <= nm.sub_id) {
        const char *np[2] = {nm.topic, next};
        if ((rc = cm_db_exec(cm, OX_MDB_TOPIC_SET_NEXT_SUB, 2, np, NULL, NULL, eb)) != 0)
            goto out;
        t->next_sub = nm.sub_id + 1;
    }
    const char *cp[15] = {name,
                          nm.topic,
                          subs,
                          host_id,
                          ports,
                          "master",
                          "mysql2store",
                          "",
                          ox_props_get_str(p, "store.start.checkpoint", ""),
                          "running",
                          "1002",
                          "",
                          "",
                          "0",
                          ms};
    rc = cm_db_exec(cm, OX_MDB_CRAWLER_INSERT, 15, cp, NULL, NULL, eb);
out:
    if (pw != NULL) {
        memset(pw, 0, strlen(pw));
        free(pw);
    }
    ox_props_free(p);
    return rc;
}

static int adopt_all(struct ox_cm *cm, const char *stores, ox_errbuf *eb)
{
    DIR *d = opendir(stores);
    if (d == NULL)
        return ox_errf(eb, OX_EIO, "opendir %s: %s", stores, strerror(errno));
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        char path[2400];
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s/store.properties", stores, e->d_name);
        if (stat(path, &st) != 0)
            continue;
        rc = adopt_one(cm, stores, e->d_name, eb);
    }
    closedir(d);
    if (rc == 0)
        rc = cm_state_load(cm, eb);
    return rc;
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
    int adopt = 0;
    if (cm->cfg.props != NULL) {
        int rc = ox_props_get_bool(cm->cfg.props, "cm.metadb.adopt", 0, &adopt, eb);
        if (rc != 0)
            return rc;
    }
    if (ok && !adopt)
        return 0;
    char example[256] = "";
    const char *stores = cm->local_sv_stores; /* ox_cm_start read it (run_supervisor) */
    int n = count_stores(stores, example, sizeof example);
    if (n == 0)
        return 0;
    if (adopt)
        return adopt_all(cm, stores, eb);
    return ox_errf(eb, OX_ECONFIG,
                   "the metaDB is empty (no topic, no crawler) but %s holds %d store "
                   "director%s (e.g. %s): the metaDB was lost or replaced. Restore it from a "
                   "backup (put the backup file in place as described in docs/operations.md, "
                   "Backup) and start the CM again; or set cm.metadb.adopt=true to rebuild the "
                   "metaDB from those directories (their crawlers, ports and topics; userData "
                   "is lost); or set cm.metadb.empty.ok=true to start empty: the old "
                   "directories are kept as they are and never reused by new crawlers",
                   stores, n, n == 1 ? "y" : "ies", example);
}
