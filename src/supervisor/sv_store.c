/*
 * sv_store.c - one store process: its config files, spawning, stopping,
 * reaping and removal.
 *
 * store.properties (0600) follows docs of `oxbow store --config FILE`
 * (/work/notes/store_contract.md); the source password is never in it nor on
 * argv: it goes to source.password (0600), named by source.password.file.
 * Both are written under a temporary name, fsynced and renamed.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ox_alloc.h"
#include "ox_buf.h"
#include "ox_durable.h"
#include "sv_internal.h"

#define SV_CHECKPOINT_KEY "store.start.checkpoint="

static int mkdir_p(const char *path, mode_t mode)
{
    char tmp[1400];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, mode) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, mode) != 0 && errno != EEXIST ? -1 : 0;
}

/* Reads store.port back from an existing store.properties (0 if none). */
static int existing_port(const char *dir)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/store.properties", dir);
    ox_props *p = NULL;
    if (ox_props_load_file(path, &p, NULL) != 0)
        return 0;
    int64_t v = 0;
    ox_props_get_int(p, "store.port", 0, 0, 65535, &v, NULL);
    ox_props_free(p);
    return (int)v;
}

static int port_free(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

static int pick_port(struct ox_supervisor *sv)
{
    for (int port = sv->cfg.store_port_base; port < 65536; port++) {
        int used = 0;
        for (int i = 0; i < sv->nstores && !used; i++)
            used = sv->stores[i]->port == port;
        if (!used && port != sv->cfg.port && port_free(port))
            return port;
    }
    return 0;
}

struct sv_store *sv_store_new(struct ox_supervisor *sv, const char *name)
{
    struct sv_store *s = ox_xcalloc(1, sizeof *s);
    ox_backoff_init(&s->restart, SV_RESTART_FIRST_MS, sv->cfg.backoff_max_ms);
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->dir, sizeof s->dir, "%s/stores/%s", sv->cfg.dir, name);
    s->port = existing_port(s->dir);
    if (s->port == 0)
        s->port = pick_port(sv);
    snprintf(s->state, sizeof s->state, "stopped");
    return s;
}

void sv_store_free(struct sv_store *s)
{
    if (s == NULL)
        return;
    json_decref(s->status);
    json_decref(s->source);
    free(s);
}

static const char *src_str(const struct sv_store *s, const char *k)
{
    const char *v = json_string_value(json_object_get(s->source, k));
    return v ? v : "";
}

/* store.properties as this supervisor writes it for the store's current
 * desired state, into b; without the start checkpoint unless asked (a
 * running store resumes from its log, whatever that line says). */
static void render_config(const struct ox_supervisor *sv, const struct sv_store *s,
                          int with_checkpoint, ox_buf *b)
{
    char pwpath[1500], data[1500];
    snprintf(pwpath, sizeof pwpath, "%s/source.password", s->dir);
    snprintf(data, sizeof data, "%s/data", s->dir);
    ox_buf_printf(b, "# Written by oxbow supervisor for store %s; rewritten on each start.\n",
                  s->name);
    ox_buf_printf(b, "store.name=%s\nstore.dir=%s\nstore.listen=%s\nstore.port=%d\n", s->name, data,
                  sv->cfg.store_listen, s->port);
    if (sv->cfg.store_token_file[0])
        ox_buf_printf(b, "store.auth.token.file=%s\n", sv->cfg.store_token_file);
    json_t *port = json_object_get(s->source, "port");
    ox_buf_printf(b, "source.type=%s\nsource.host=%s\nsource.port=%d\nsource.user=%s\n",
                  src_str(s, "type"), src_str(s, "host"),
                  json_is_integer(port) ? (int)json_integer_value(port) : 3306, src_str(s, "user"));
    ox_buf_printf(b, "source.password.file=%s\n", pwpath);
    if (*src_str(s, "database") != '\0')
        ox_buf_printf(b, "source.database=%s\n", src_str(s, "database"));
    if (with_checkpoint)
        ox_buf_printf(b, "%s%s\n", SV_CHECKPOINT_KEY, s->checkpoint);
    ox_buf_printf(b, "store.whitelist=%s\nstore.blacklist=%s\n", src_str(s, "whitelist"),
                  src_str(s, "blacklist"));
    json_t *ret = json_object_get(s->source, "retention");
    if (json_is_integer(ret) && json_integer_value(ret) > 0)
        ox_buf_printf(b, "store.clearer.outdated=%lld\n", (long long)json_integer_value(ret));
}

/* Writes the store's password file and store.properties (both 0600,
 * through ox_durable: a crash leaves the old or the new file, never half of
 * one). Returns 0 or an OX_E* code with the path and cause in eb. */
static int write_config(struct ox_supervisor *sv, struct sv_store *s, ox_errbuf *eb)
{
    char data[1500];
    if (mkdir_p(s->dir, 0700) != 0)
        return ox_errf(eb, OX_EIO, "mkdir %s: %s", s->dir, strerror(errno));
    snprintf(data, sizeof data, "%s/data", s->dir);
    if (mkdir(data, 0700) != 0 && errno != EEXIST)
        return ox_errf(eb, OX_EIO, "mkdir %s: %s", data, strerror(errno));
    const char *pw = src_str(s, "password");
    int rc = ox_durable_create(s->dir, "source.password", pw, strlen(pw), 0, NULL, eb);
    if (rc != 0)
        return rc;
    ox_buf b = OX_BUF_INIT;
    render_config(sv, s, 1, &b);
    rc = ox_durable_create(s->dir, "store.properties", b.data, b.len, 0, NULL, eb);
    ox_buf_free(&b);
    return rc;
}

/* The first `max` bytes of a small file, NUL-terminated, in buf (0), or -1. */
static int read_small(const char *dir, const char *name, char *buf, size_t max)
{
    char path[1500];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, max - 1, f);
    fclose(f);
    buf[n] = '\0';
    return 0;
}

/* Whether the files a running store was started with differ from what its
 * desired state would write now (a topic/update while the supervisor was
 * down), the start checkpoint aside. */
static int config_changed(const struct ox_supervisor *sv, const struct sv_store *s)
{
    static const size_t max = 64 * 1024;
    char *have = ox_xmalloc(max);
    int changed = read_small(s->dir, "source.password", have, max) != 0 ||
                  strcmp(have, src_str(s, "password")) != 0;
    if (!changed && read_small(s->dir, "store.properties", have, max) == 0) {
        /* Drop the checkpoint line before comparing. */
        char *cp = strstr(have, "\n" SV_CHECKPOINT_KEY);
        if (cp != NULL) {
            char *eol = strchr(cp + 1, '\n');
            memmove(cp + 1, eol ? eol + 1 : cp + strlen(cp), strlen(eol ? eol + 1 : "") + 1);
        }
        ox_buf want = OX_BUF_INIT;
        render_config(sv, s, 0, &want);
        ox_buf_putc(&want, '\0');
        changed = strcmp(have, (const char *)want.data) != 0;
        ox_buf_free(&want);
    } else if (!changed) {
        changed = 1;
    }
    memset(have, 0, max);
    free(have);
    return changed;
}

/*
 * The directory's owner: <dir>/owner holds "crawler=<name>\ncreatedMs=<ms>\n"
 * of the crawler that created it (written durably before its first start).
 * A crawler never runs in a directory whose owner is another crawler with
 * the same name (a metaDB that was lost or replaced hands out old names
 * again; the old directory holds a log of another whitelist). A directory
 * from before owner files is adopted only if its store.properties was
 * written after the crawler was created (minus a minute for clock skew
 * between CM and host); otherwise it belongs to an older crawler.
 * Returns 0 (owner written if it was missing) or OX_EBUSY with s->error set.
 */
/* The createdMs of the directory's owner file: 1 with *owner_ms set, 0 if
 * the directory has no owner file. */
static int read_owner(const struct sv_store *s, long long *owner_ms)
{
    char path[1500], text[512];
    snprintf(path, sizeof path, "%s/owner", s->dir);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return 0;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    const char *cm = strstr(text, "createdMs=");
    *owner_ms = cm ? strtoll(cm + 10, NULL, 10) : -1;
    return 1;
}

static int claim_dir(struct sv_store *s)
{
    char path[1500], text[512];
    ox_errbuf eb;
    long long owner_ms;
    if (s->created_ms <= 0)
        return 0; /* a CM that does not say: nothing to compare */
    if (read_owner(s, &owner_ms)) {
        if (owner_ms == (long long)s->created_ms)
            return 0;
        snprintf(s->error, sizeof s->error,
                 "directory %.120s belongs to another crawler of this name (created at %lld ms, "
                 "this one at %lld ms); move it away to start this crawler",
                 s->dir, owner_ms, (long long)s->created_ms);
        return OX_EBUSY;
    }
    struct stat st;
    snprintf(path, sizeof path, "%s/store.properties", s->dir);
    if (stat(path, &st) == 0) {
        long long mtime_ms = (long long)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
        if (mtime_ms < (long long)s->created_ms - 60000) {
            snprintf(s->error, sizeof s->error,
                     "directory %.120s was last used before this crawler was created (an older "
                     "crawler of this name?); move it away to start this crawler",
                     s->dir);
            return OX_EBUSY;
        }
    }
    if (mkdir_p(s->dir, 0700) != 0) {
        snprintf(s->error, sizeof s->error, "mkdir %.150s: %.80s", s->dir, strerror(errno));
        return OX_EIO;
    }
    int n = snprintf(text, sizeof text, "crawler=%s\ncreatedMs=%lld\n", s->name,
                     (long long)s->created_ms);
    if (ox_durable_create(s->dir, "owner", text, (size_t)n, 0, NULL, &eb) != 0) {
        snprintf(s->error, sizeof s->error, "%.250s", eb.msg);
        return OX_EIO;
    }
    return 0;
}

int sv_store_spawn(struct ox_supervisor *sv, struct sv_store *s)
{
    if (s->port == 0 && (s->port = pick_port(sv)) == 0) {
        snprintf(s->error, sizeof s->error, "no free store port from %d", sv->cfg.store_port_base);
        return OX_EBUSY;
    }
    int rc = claim_dir(s);
    if (rc != 0)
        return rc;
    /* Checked at bind: the store fails too, but this says why. */
    if (!port_free(s->port)) {
        snprintf(s->error, sizeof s->error,
                 "port %d (allocated by the CM) is in use by another process", s->port);
        s->port_busy = 1; /* reported: the CM allocates another one */
        return OX_EBUSY;
    }
    s->port_busy = 0;
    ox_errbuf eb;
    if ((rc = write_config(sv, s, &eb)) != 0) {
        snprintf(s->error, sizeof s->error, "cannot write config: %.200s", eb.msg);
        return rc;
    }
    char cfgpath[1500], logpath[1500];
    snprintf(cfgpath, sizeof cfgpath, "%s/store.properties", s->dir);
    snprintf(logpath, sizeof logpath, "%s/console.log", s->dir);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(s->error, sizeof s->error, "fork: %s", strerror(errno));
        return OX_EIO;
    }
    if (pid == 0) {
        /* Child: only async-signal-safe calls until exec. The store dies with
         * the supervisor thread (PDEATHSIG) and has its own process group so
         * that a terminal's ^C reaches the supervisor only. */
        if (!sv->cfg.stores_outlive) {
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (getppid() != parent)
                _exit(127);
        }
        setpgid(0, 0);
        int in = open("/dev/null", O_RDONLY);
        int out = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (in >= 0)
            dup2(in, 0);
        if (out >= 0) {
            dup2(out, 1);
            dup2(out, 2);
        }
        close_range(3, ~0U, 0);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        char *argv[] = {"oxbow", "store", "--config", cfgpath, NULL};
        execv(sv->cfg.store_bin, argv);
        _exit(127);
    }
    s->pid = pid;
    s->started_ms = ox_time_mono_ms();
    s->last_ok_ms = s->started_ms;
    s->answered = 0;
    s->stop_deadline_ms = 0;
    s->killed = 0;
    s->error[0] = '\0';
    snprintf(s->state, sizeof s->state, "starting");
    json_decref(s->status);
    s->status = NULL;
    fprintf(stderr, "oxbow supervisor: started store %s pid %d port %d\n", s->name, (int)pid,
            s->port);
    return 0;
}

/* A live process, not a zombie (an adopted store's parent may be an init
 * that never reaps it). */
static int pid_running(pid_t pid)
{
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return 0;
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno != ENOENT;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 1;
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    return !(p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'));
}

int sv_store_adopt(struct ox_supervisor *sv, struct sv_store *s)
{
    if (s->adopt_tried || s->pid > 0)
        return 0;
    s->adopt_tried = 1;
    char path[1500], buf[4096];
    snprintf(path, sizeof path, "%s/data/store.lock", s->dir);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return 0;
    long pid = fgets(buf, sizeof buf, f) ? strtol(buf, NULL, 10) : 0;
    fclose(f);
    if (pid <= 1 || !pid_running((pid_t)pid))
        return 0;
    /* The pid must be this store: "oxbow store --config <dir>/store.properties". */
    snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char want[1500];
    snprintf(want, sizeof want, "%s/store.properties", s->dir);
    int match = 0;
    for (ssize_t i = 0; i < n && !match; i += (ssize_t)strlen(buf + i) + 1)
        match = strcmp(buf + i, want) == 0;
    if (!match)
        return 0;
    /* A store of an older crawler of the same name (a lost metaDB) is not
     * this crawler's: the start then fails on the directory (claim_dir). */
    long long owner_ms;
    if (s->created_ms > 0 && read_owner(s, &owner_ms) && owner_ms != (long long)s->created_ms) {
        fprintf(stderr,
                "oxbow supervisor: store process %ld runs in %s for another crawler of this name "
                "(created at %lld ms); not adopting it\n",
                pid, s->dir, owner_ms);
        return 0;
    }
    s->pid = (pid_t)pid;
    s->adopted = 1;
    /* It listens where its config says, whatever the CM allocated since;
     * the status poll then checks that this port answers as this store
     * and this pid (poll_status in sv_main.c). */
    int port = existing_port(s->dir);
    if (port > 0)
        s->port = port;
    s->answered = 0;
    s->started_ms = ox_time_mono_ms();
    s->last_ok_ms = s->started_ms;
    s->stop_deadline_ms = 0;
    s->killed = 0;
    snprintf(s->state, sizeof s->state, "starting");
    fprintf(stderr, "oxbow supervisor: store %s still runs from before (pid %ld); adopted it\n",
            s->name, pid);
    if (s->source != NULL && config_changed(sv, s)) {
        /* It resumes from its own log after the restart: nothing is lost. */
        s->reconfigure = 1;
        fprintf(stderr,
                "oxbow supervisor: store %s: its configuration changed while it ran without "
                "this supervisor; restarting it with the new one\n",
                s->name);
    }
    return 1;
}

int sv_store_reap(struct ox_supervisor *sv, struct sv_store *s)
{
    if (s->pid <= 0)
        return 0;
    int st = 0;
    if (s->adopted) {
        /* Not our child: its exit status went to init; only the end shows. */
        if (pid_running(s->pid))
            return 0;
        s->adopted = 0;
        st = -1;
    } else {
        pid_t r = waitpid(s->pid, &st, WNOHANG);
        if (r == 0 || (r < 0 && errno == EINTR))
            return 0;
    }
    int stopping = s->stop_deadline_ms != 0;
    pid_t pid = s->pid;
    s->pid = 0;
    json_decref(s->status);
    s->status = NULL;
    if (stopping) {
        s->stop_deadline_ms = 0;
        snprintf(s->state, sizeof s->state, "stopped");
        fprintf(stderr, "oxbow supervisor: store %s (pid %d) stopped\n", s->name, (int)pid);
        return 1;
    }
    if (st == -1)
        snprintf(s->error, sizeof s->error, "exited (a store adopted from before; status unknown)");
    else if (WIFSIGNALED(st) && s->killed)
        snprintf(s->error, sizeof s->error,
                 "killed by the supervisor (signal %d): it stopped answering its status",
                 WTERMSIG(st));
    else if (WIFSIGNALED(st))
        snprintf(s->error, sizeof s->error, "killed by signal %d", WTERMSIG(st));
    else
        snprintf(s->error, sizeof s->error, "exited with status %d%s",
                 WIFEXITED(st) ? WEXITSTATUS(st) : -1,
                 WIFEXITED(st) && WEXITSTATUS(st) == 127 ? " (exec failed?)" : "");
    /* Back off exponentially; a store that ran for a minute starts afresh. */
    int64_t now = ox_time_mono_ms();
    if (now - s->started_ms > 60000)
        ox_backoff_reset(&s->restart);
    int64_t wait = ox_backoff_fail(&s->restart);
    s->next_start_ms = now + wait;
    s->restarts++;
    snprintf(s->last_crash, sizeof s->last_crash, "%s", s->error);
    snprintf(s->state, sizeof s->state, "crashed");
    fprintf(stderr, "oxbow supervisor: store %s (pid %d) %s; restart in %" PRId64 " ms\n", s->name,
            (int)pid, s->error, wait);
    return 1;
}

int sv_store_stop_step(struct ox_supervisor *sv, struct sv_store *s)
{
    if (s->pid <= 0) {
        if (strcmp(s->state, "destroyed") != 0)
            snprintf(s->state, sizeof s->state, "stopped");
        return 1;
    }
    int64_t now = ox_time_mono_ms();
    if (s->stop_deadline_ms == 0) {
        s->stop_deadline_ms = now + sv->cfg.stop_grace_ms;
        kill(s->pid, SIGTERM);
    } else if (now >= s->stop_deadline_ms && !s->killed) {
        fprintf(stderr, "oxbow supervisor: store %s ignored SIGTERM; sending SIGKILL\n", s->name);
        kill(s->pid, SIGKILL);
        s->killed = 1;
    }
    return sv_store_reap(sv, s) && s->pid == 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

int sv_store_remove_dir(struct sv_store *s, ox_errbuf *eb)
{
    struct stat st;
    if (lstat(s->dir, &st) != 0)
        return errno == ENOENT ? 0 : ox_errf(eb, OX_EIO, "stat %s: %s", s->dir, strerror(errno));
    if (nftw(s->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
        return ox_errf(eb, OX_EIO, "remove %s: %s", s->dir, strerror(errno));
    return 0;
}
