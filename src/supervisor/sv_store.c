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
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ox_alloc.h"
#include "ox_buf.h"
#include "sv_internal.h"

int64_t sv_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

/* Writes `data` to path atomically with the given mode. */
static int write_file(const char *path, const char *data, size_t len, mode_t mode)
{
    char tmp[1500];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    fchmod(fd, mode);
    int ok = write(fd, data, len) == (ssize_t)len && fsync(fd) == 0;
    close(fd);
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static const char *src_str(const struct sv_store *s, const char *k)
{
    const char *v = json_string_value(json_object_get(s->source, k));
    return v ? v : "";
}

static int write_config(struct ox_supervisor *sv, struct sv_store *s)
{
    char path[1500], pwpath[1500], data[1500];
    if (mkdir_p(s->dir, 0700) != 0)
        return ox_errf(NULL, OX_EIO, "mkdir");
    snprintf(data, sizeof data, "%s/data", s->dir);
    if (mkdir(data, 0700) != 0 && errno != EEXIST)
        return OX_EIO;
    snprintf(pwpath, sizeof pwpath, "%s/source.password", s->dir);
    const char *pw = src_str(s, "password");
    if (write_file(pwpath, pw, strlen(pw), 0600) != 0)
        return OX_EIO;
    ox_buf b = OX_BUF_INIT;
    ox_buf_printf(&b, "# Written by oxbow supervisor for store %s; rewritten on each start.\n",
                  s->name);
    ox_buf_printf(&b, "store.name=%s\nstore.dir=%s\nstore.listen=%s\nstore.port=%d\n", s->name,
                  data, sv->cfg.store_listen, s->port);
    if (sv->cfg.store_token_file[0])
        ox_buf_printf(&b, "store.auth.token.file=%s\n", sv->cfg.store_token_file);
    json_t *port = json_object_get(s->source, "port");
    ox_buf_printf(&b, "source.type=%s\nsource.host=%s\nsource.port=%d\nsource.user=%s\n",
                  src_str(s, "type"), src_str(s, "host"),
                  json_is_integer(port) ? (int)json_integer_value(port) : 3306, src_str(s, "user"));
    ox_buf_printf(&b, "source.password.file=%s\n", pwpath);
    if (*src_str(s, "database") != '\0')
        ox_buf_printf(&b, "source.database=%s\n", src_str(s, "database"));
    ox_buf_printf(&b, "store.start.checkpoint=%s\n", s->checkpoint);
    ox_buf_printf(&b, "store.whitelist=%s\nstore.blacklist=%s\n", src_str(s, "whitelist"),
                  src_str(s, "blacklist"));
    snprintf(path, sizeof path, "%s/store.properties", s->dir);
    int rc = write_file(path, (const char *)b.data, b.len, 0600);
    ox_buf_free(&b);
    return rc == 0 ? 0 : OX_EIO;
}

int sv_store_spawn(struct ox_supervisor *sv, struct sv_store *s)
{
    if (s->port == 0 && (s->port = pick_port(sv)) == 0) {
        snprintf(s->error, sizeof s->error, "no free store port from %d", sv->cfg.store_port_base);
        return OX_EBUSY;
    }
    if (write_config(sv, s) != 0) {
        snprintf(s->error, sizeof s->error, "cannot write config in %.150s: %.80s", s->dir,
                 strerror(errno));
        return OX_EIO;
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
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(127);
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
    s->started_ms = sv_now_ms();
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

int sv_store_reap(struct ox_supervisor *sv, struct sv_store *s)
{
    if (s->pid <= 0)
        return 0;
    int st = 0;
    pid_t r = waitpid(s->pid, &st, WNOHANG);
    if (r == 0 || (r < 0 && errno == EINTR))
        return 0;
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
    if (WIFSIGNALED(st))
        snprintf(s->error, sizeof s->error, "killed by signal %d", WTERMSIG(st));
    else
        snprintf(s->error, sizeof s->error, "exited with status %d%s",
                 WIFEXITED(st) ? WEXITSTATUS(st) : -1,
                 WIFEXITED(st) && WEXITSTATUS(st) == 127 ? " (exec failed?)" : "");
    /* Back off exponentially; a store that ran for a minute starts afresh. */
    int64_t now = sv_now_ms();
    if (now - s->started_ms > 60000)
        s->backoff_ms = 0;
    s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : 500;
    if (s->backoff_ms > sv->cfg.backoff_max_ms)
        s->backoff_ms = sv->cfg.backoff_max_ms;
    s->next_start_ms = now + s->backoff_ms;
    s->restarts++;
    snprintf(s->state, sizeof s->state, "crashed");
    fprintf(stderr, "oxbow supervisor: store %s (pid %d) %s; restart in %d ms\n", s->name, (int)pid,
            s->error, s->backoff_ms);
    return 1;
}

int sv_store_stop_step(struct ox_supervisor *sv, struct sv_store *s)
{
    if (s->pid <= 0) {
        if (strcmp(s->state, "destroyed") != 0)
            snprintf(s->state, sizeof s->state, "stopped");
        return 1;
    }
    int64_t now = sv_now_ms();
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
