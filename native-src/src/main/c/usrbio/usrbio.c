// libinfra4j_usrbio.so: 3FS's USRBIO API (include/infra4j/usrbio.h) over io_uring, for files of any local
// file system. An iov is POSIX shared memory (so that another process can open it by id, as with 3FS); a
// ring is an io_uring whose slots stay busy from prep_io until wait_for_ios returns their completion; a
// registered fd is duplicated (and reopened with O_DIRECT where the file system allows it), and an I/O
// goes through O_DIRECT when its buffer, offset and length are all 4 KiB aligned, else through the page
// cache. The iovs a ring sees are registered with its io_uring as fixed buffers (up to 16 per ring), so the
// kernel need not map their pages for each I/O. liburing is linked statically: the library needs nothing
// but the kernel's io_uring.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <liburing.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "infra4j/usrbio.h"

#define API __attribute__((visibility("default")))

enum { kDirectAlign = 4096, kMaxEntries = 32768 };
static const uint64_t kMaxLen = 1ull << 30;  // one request: io_uring's results are 32-bit

// ---- registered file descriptors ----

typedef struct {
    int orig, dup, direct;  // direct: an O_DIRECT reopening, or -1
    int accmode;
    int refs;  // the table's, and one per prepared I/O: the descriptors close when the last one goes
} fd_entry;

static pthread_mutex_t fd_lock = PTHREAD_MUTEX_INITIALIZER;
static fd_entry **fds;  // by descriptor number: the original's and the duplicate's both point at the entry
static int fds_len;

static int fd_slot_reserve(int fd) {  // under fd_lock
    if (fd < fds_len) return 0;
    int n = fds_len ? fds_len : 1024;
    while (n <= fd) n *= 2;
    fd_entry **grown = realloc(fds, sizeof(*fds) * (size_t)n);
    if (grown == NULL) return -ENOMEM;
    memset(grown + fds_len, 0, sizeof(*fds) * (size_t)(n - fds_len));
    fds = grown;
    fds_len = n;
    return 0;
}

// The registration of fd (or of its duplicate, -dup), with a reference the caller gives back; NULL if none.
static fd_entry *fd_acquire(int fd) {
    if (fd == INT_MIN) return NULL;
    if (fd < 0) fd = -fd;
    fd_entry *e = NULL;
    pthread_mutex_lock(&fd_lock);
    if (fd < fds_len && fds[fd] != NULL) {
        e = fds[fd];
        e->refs++;
    }
    pthread_mutex_unlock(&fd_lock);
    return e;
}

static void fd_release(fd_entry *e) {
    pthread_mutex_lock(&fd_lock);
    int left = --e->refs;
    pthread_mutex_unlock(&fd_lock);
    if (left == 0) {
        close(e->dup);
        if (e->direct >= 0) close(e->direct);
        free(e);
    }
}

API bool hf3fs_is_hf3fs(int fd) {
    struct statfs s;
    return fstatfs(fd, &s) == 0 && (uint32_t)s.f_type == (uint32_t)HF3FS_SUPER_MAGIC;
}

API int hf3fs_reg_fd(int fd, uint64_t flags) {
    (void)flags;
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) return EBADF;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0) return EBADF;
    pthread_mutex_lock(&fd_lock);
    int err = fd_slot_reserve(fd);
    if (err == 0 && fds[fd] != NULL) err = -EINVAL;  // registered already (or its number reused unregistered)
    pthread_mutex_unlock(&fd_lock);
    if (err) return -err;
    fd_entry *e = malloc(sizeof *e);
    if (e == NULL) return ENOMEM;
    e->orig = fd;
    e->refs = 1;
    e->accmode = fl & O_ACCMODE;
    e->dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (e->dup < 0) {
        int saved = errno;
        free(e);
        return saved;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    e->direct = S_ISREG(st.st_mode) ? open(path, e->accmode | O_DIRECT | O_CLOEXEC) : -1;  // tmpfs, for one, refuses
    pthread_mutex_lock(&fd_lock);
    err = fd_slot_reserve(e->dup);
    if (err == 0 && (fds[fd] != NULL || fds[e->dup] != NULL)) err = -EINVAL;
    if (err == 0) fds[fd] = fds[e->dup] = e;
    pthread_mutex_unlock(&fd_lock);
    if (err) {
        close(e->dup);
        if (e->direct >= 0) close(e->direct);
        free(e);
        return -err;
    }
    return -e->dup;  // as 3FS: 0 or a negative number on success, which prep_io also takes
}

API void hf3fs_dereg_fd(int fd) {
    if (fd == INT_MIN) return;
    if (fd < 0) fd = -fd;
    fd_entry *e = NULL;
    pthread_mutex_lock(&fd_lock);
    if (fd < fds_len && fds[fd] != NULL) {
        e = fds[fd];
        fds[e->orig] = NULL;
        fds[e->dup] = NULL;
    }
    pthread_mutex_unlock(&fd_lock);
    if (e != NULL) fd_release(e);  // I/Os already prepared keep the descriptors until they complete
}

// ---- mount points ----

API int hf3fs_extract_mount_point(char *hf3fs_mount_point, int size, const char *path) {
    char real[PATH_MAX];
    if (path == NULL || realpath(path, real) == NULL) return -1;
    FILE *m = fopen("/proc/self/mounts", "re");
    if (m == NULL) return -1;
    char line[4096], best[PATH_MAX] = "";
    size_t best_len = 0;
    while (fgets(line, sizeof line, m) != NULL) {
        char dev[1024], dir[PATH_MAX];
        if (sscanf(line, "%1023s %4095s", dev, dir) != 2) continue;
        size_t n = strlen(dir);
        bool prefix = strncmp(real, dir, n) == 0 && (real[n] == '/' || real[n] == '\0' || (n == 1 && dir[0] == '/'));
        if (prefix && n >= best_len) {
            strcpy(best, dir);
            best_len = n;
        }
    }
    fclose(m);
    if (best_len == 0) return -1;
    int need = (int)best_len + 1;
    if (hf3fs_mount_point != NULL && need <= size) memcpy(hf3fs_mount_point, best, (size_t)need);
    return need;
}

// ---- iovs ----

typedef struct {
    char shm_name[64];
    int owner;
    uint64_t gen;  // unique in the process: what a ring's fixed buffer is matched by
} iov_handle;

// The generations of the iovs alive now (created or opened here, not yet destroyed).
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t *live;
static size_t live_len, live_cap;
static uint64_t next_gen = 1;

static uint64_t gen_new(void) {
    pthread_mutex_lock(&live_lock);
    uint64_t g = next_gen++;
    if (live_len == live_cap) {
        size_t cap = live_cap ? live_cap * 2 : 64;
        uint64_t *grown = realloc(live, sizeof(*live) * cap);
        if (grown == NULL) {
            pthread_mutex_unlock(&live_lock);
            return 0;  // no fixed buffer for this iov
        }
        live = grown;
        live_cap = cap;
    }
    live[live_len++] = g;
    pthread_mutex_unlock(&live_lock);
    return g;
}

static void gen_dead(uint64_t g) {
    pthread_mutex_lock(&live_lock);
    for (size_t i = 0; i < live_len; ++i) {
        if (live[i] == g) {
            live[i] = live[--live_len];
            break;
        }
    }
    pthread_mutex_unlock(&live_lock);
}

static bool gen_alive(uint64_t g) {
    pthread_mutex_lock(&live_lock);
    bool found = false;
    for (size_t i = 0; i < live_len && !found; ++i) found = live[i] == g;
    pthread_mutex_unlock(&live_lock);
    return found;
}

static void shm_name_of(const uint8_t id[16], char out[64]) {
    static const char hex[] = "0123456789abcdef";
    strcpy(out, "/infra4j-usrbio-");
    char *p = out + strlen(out);
    for (int i = 0; i < 16; ++i) {
        *p++ = hex[id[i] >> 4];
        *p++ = hex[id[i] & 15];
    }
    *p = '\0';
}

static int fill_iov(struct hf3fs_iov *iov, void *base, const uint8_t id[16], const char *mp, size_t size, size_t block_size,
                    int numa) {
    size_t mp_len = mp == NULL ? 0 : strlen(mp);
    if (mp_len >= sizeof iov->mount_point) return -EINVAL;
    iov->base = base;
    memcpy(iov->id, id, 16);
    memset(iov->mount_point, 0, sizeof iov->mount_point);
    if (mp_len) memcpy(iov->mount_point, mp, mp_len);
    iov->size = size;
    iov->block_size = block_size;
    iov->numa = numa;
    return 0;
}

// Binds the pages to a NUMA node with the raw system call (no libnuma); 0 where it cannot apply.
static int bind_numa(void *base, size_t size, int numa) {
    if (numa < 0) return 0;
    if (numa >= 64) return -EINVAL;
    unsigned long mask = 1ul << numa;
    long r = syscall(SYS_mbind, base, size, 2 /* MPOL_BIND */, &mask, 64ul, 0u);
    return r == 0 || errno == ENOSYS ? 0 : -errno;
}

API int hf3fs_iovcreate(struct hf3fs_iov *iov, const char *hf3fs_mount_point, size_t size, size_t block_size, int numa) {
    if (iov == NULL || size == 0 || block_size > size) return -EINVAL;
    uint8_t id[16];
    if (getrandom(id, sizeof id, 0) != (ssize_t)sizeof id) return -EIO;
    iov_handle *h = calloc(1, sizeof *h);
    if (h == NULL) return -ENOMEM;
    shm_name_of(id, h->shm_name);
    h->owner = 1;
    int fd = shm_open(h->shm_name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) {
        int saved = errno;
        free(h);
        return -saved;
    }
    void *base = MAP_FAILED;
    int err = ftruncate(fd, (off_t)size) == 0 ? 0 : -errno;
    if (err == 0) {
        base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (base == MAP_FAILED) err = -errno;
    }
    close(fd);
    if (err == 0) err = bind_numa(base, size, numa);
    if (err == 0) err = fill_iov(iov, base, id, hf3fs_mount_point, size, block_size, numa);
    if (err) {
        if (base != MAP_FAILED) munmap(base, size);
        shm_unlink(h->shm_name);
        free(h);
        return err;
    }
    h->gen = gen_new();
    iov->iovh = h;
    return 0;
}

API int hf3fs_iovopen(struct hf3fs_iov *iov, const uint8_t id[16], const char *hf3fs_mount_point, size_t size, size_t block_size,
                      int numa) {
    if (iov == NULL || id == NULL || size == 0 || block_size > size) return -EINVAL;
    iov_handle *h = calloc(1, sizeof *h);
    if (h == NULL) return -ENOMEM;
    shm_name_of(id, h->shm_name);
    int fd = shm_open(h->shm_name, O_RDWR | O_CLOEXEC, 0);
    if (fd < 0) {
        int saved = errno;
        free(h);
        return -saved;
    }
    struct stat st;
    int err = fstat(fd, &st) == 0 ? ((size_t)st.st_size < size ? -EINVAL : 0) : -errno;
    void *base = MAP_FAILED;
    if (err == 0) {
        base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (base == MAP_FAILED) err = -errno;
    }
    close(fd);
    if (err == 0) err = fill_iov(iov, base, id, hf3fs_mount_point, size, block_size, numa);
    if (err) {
        if (base != MAP_FAILED) munmap(base, size);
        free(h);
        return err;
    }
    h->gen = gen_new();
    iov->iovh = h;
    return 0;
}

API void hf3fs_iovunlink(struct hf3fs_iov *iov) {
    if (iov == NULL || iov->iovh == NULL) return;  // a wrapped iov has nothing of ours to unlink
    iov_handle *h = iov->iovh;
    if (h->owner) {
        shm_unlink(h->shm_name);
        h->owner = 0;
    }
}

API void hf3fs_iovdestroy(struct hf3fs_iov *iov) {
    if (iov == NULL || iov->iovh == NULL) return;
    hf3fs_iovunlink(iov);
    gen_dead(((iov_handle *)iov->iovh)->gen);  // a ring's fixed buffer of it may be replaced from now on
    munmap(iov->base, iov->size);
    free(iov->iovh);
    iov->iovh = NULL;
    iov->base = NULL;
}

API int hf3fs_iovwrap(struct hf3fs_iov *iov, void *base, const uint8_t id[16], const char *hf3fs_mount_point, size_t size,
                      size_t block_size, int numa) {
    if (iov == NULL || base == NULL || id == NULL || size == 0 || block_size > size) return -EINVAL;
    int err = fill_iov(iov, base, id, hf3fs_mount_point, size, block_size, numa);
    if (err) return err;
    iov->iovh = NULL;  // the caller's memory: destroy leaves it alone
    return bind_numa(base, size, numa);
}

// ---- rings ----

typedef struct {
    fd_entry *file;  // referenced from prep_io until the completion is taken
    int fd;
    void *ptr;
    uint64_t off;
    unsigned len;
    const void *userdata;
    uintptr_t iov_base;  // the iov it reads into or writes from, and its generation (0: wrapped, no fixed buffer)
    size_t iov_size;
    uint64_t iov_gen;
    bool busy;
} slot;

enum { kFixedBuffers = 16 };

// An iov registered as a fixed buffer of a ring (state 1), or one whose registration failed (state -1: not
// tried again), by the iov's generation. A slot whose iov was destroyed is registered anew for another,
// which unpins the old pages; until then a destroyed iov's pages stay pinned.
typedef struct {
    uint64_t gen;
    int state;
} fixed_buffer;

typedef struct {
    struct io_uring ring;
    int entries, io_depth;
    bool for_read;
    pthread_mutex_t lock;  // slots and the pending queue: one thread may prepare while another waits
    slot *slots;
    int *free_slots, free_count;
    int *pending, pending_count;  // prepared, not yet handed to the kernel
    int inflight;                 // handed to the kernel, completion not yet taken
    bool fixed_ok;                // the ring has a sparse table of fixed buffers
    fixed_buffer fixed[kFixedBuffers];
    int nfixed;
} ring;

// The ring's fixed-buffer index for a slot's iov, registering it on first sight; -1: use plain I/O. Under r->lock.
static int fixed_index(ring *r, const slot *s) {
    if (!r->fixed_ok || s->iov_gen == 0) return -1;
    int free_at = -1;
    for (int i = 0; i < r->nfixed; ++i) {
        fixed_buffer *f = &r->fixed[i];
        if (f->gen == s->iov_gen) return f->state > 0 ? i : -1;
        if (free_at < 0 && !gen_alive(f->gen)) free_at = i;  // its iov is gone: the place can be reused
    }
    if (free_at < 0) {
        if (r->nfixed == kFixedBuffers) return -1;
        free_at = r->nfixed++;
    }
    struct iovec v = {(void *)s->iov_base, s->iov_size};
    fixed_buffer *f = &r->fixed[free_at];
    f->gen = s->iov_gen;
    f->state = io_uring_register_buffers_update_tag(&r->ring, (unsigned)free_at, &v, NULL, 1) == 1 ? 1 : -1;
    return f->state > 0 ? free_at : -1;
}

API size_t hf3fs_ior_size(int entries) {
    return entries < 0 ? 0 : 16 + 32 + 96 * ((size_t)entries + 1) + 4096;
}

API int hf3fs_io_entries(const struct hf3fs_ior *ior) {
    if (ior == NULL) return -EINVAL;
    if (ior->iorh != NULL) return ((const ring *)ior->iorh)->entries;
    return ior->iov.size < 4096 + 48 + 96 ? 0 : (int)((ior->iov.size - 4096 - 48) / 96) - 1;
}

API int hf3fs_iorcreate4(struct hf3fs_ior *ior, const char *hf3fs_mount_point, int entries, bool for_read, int io_depth, int timeout,
                         int numa, uint64_t flags) {
    (void)numa;
    if (ior == NULL || entries < 1 || entries > kMaxEntries || timeout < 0 || io_depth > entries || io_depth < -entries) return -EINVAL;
    size_t mp_len = hf3fs_mount_point == NULL ? 0 : strlen(hf3fs_mount_point);
    if (mp_len >= sizeof ior->mount_point) return -EINVAL;
    ring *r = calloc(1, sizeof *r);
    if (r == NULL) return -ENOMEM;
    r->entries = entries;
    r->io_depth = io_depth;
    r->for_read = for_read;
    r->slots = calloc((size_t)entries, sizeof *r->slots);
    r->free_slots = malloc(sizeof(int) * (size_t)entries);
    r->pending = malloc(sizeof(int) * (size_t)entries);
    int err = r->slots && r->free_slots && r->pending ? 0 : -ENOMEM;
    if (err == 0) err = io_uring_queue_init((unsigned)entries, &r->ring, 0);
    if (err == 0 && !(r->ring.features & IORING_FEAT_EXT_ARG)) {
        // Before Linux 5.11 a timed wait would submit from the waiting thread, racing the preparing one.
        io_uring_queue_exit(&r->ring);
        err = -EOPNOTSUPP;
    }
    if (err) {
        free(r->slots);
        free(r->free_slots);
        free(r->pending);
        free(r);
        return err;
    }
    pthread_mutex_init(&r->lock, NULL);
    r->fixed_ok = io_uring_register_buffers_sparse(&r->ring, kFixedBuffers) == 0;  // else: plain reads and writes
    for (int i = 0; i < entries; ++i) r->free_slots[i] = entries - 1 - i;  // slot 0 first
    r->free_count = entries;
    memset(&ior->iov, 0, sizeof ior->iov);
    ior->iov.size = hf3fs_ior_size(entries);
    ior->iorh = r;
    memset(ior->mount_point, 0, sizeof ior->mount_point);
    if (mp_len) memcpy(ior->mount_point, hf3fs_mount_point, mp_len);
    ior->for_read = for_read;
    ior->io_depth = io_depth;
    ior->priority = 0;
    ior->timeout = timeout;
    ior->flags = flags;
    return 0;
}

API int hf3fs_iorcreate3(struct hf3fs_ior *ior, const char *hf3fs_mount_point, int entries, bool for_read, int io_depth, int priority,
                         int timeout, int numa) {
    int err = hf3fs_iorcreate4(ior, hf3fs_mount_point, entries, for_read, io_depth, timeout, numa, 0);
    if (err == 0) ior->priority = priority;  // one queue here: kept for the caller to read
    return err;
}

API int hf3fs_iorcreate2(struct hf3fs_ior *ior, const char *hf3fs_mount_point, int entries, bool for_read, int io_depth, int priority,
                         int numa) {
    return hf3fs_iorcreate3(ior, hf3fs_mount_point, entries, for_read, io_depth, priority, 0, numa);
}

API int hf3fs_iorcreate(struct hf3fs_ior *ior, const char *hf3fs_mount_point, int entries, bool for_read, int io_depth, int numa) {
    return hf3fs_iorcreate2(ior, hf3fs_mount_point, entries, for_read, io_depth, 0, numa);
}

API void hf3fs_iordestroy(struct hf3fs_ior *ior) {
    if (ior == NULL || ior->iorh == NULL) return;
    ring *r = ior->iorh;
    // The kernel finishes or cancels what is in flight before the ring goes away.
    io_uring_queue_exit(&r->ring);
    for (int i = 0; i < r->entries; ++i) {
        if (r->slots[i].busy && r->slots[i].file != NULL) fd_release(r->slots[i].file);  // prepared or in flight
    }
    pthread_mutex_destroy(&r->lock);
    free(r->slots);
    free(r->free_slots);
    free(r->pending);
    free(r);
    ior->iorh = NULL;
}

API int hf3fs_prep_io(const struct hf3fs_ior *ior, const struct hf3fs_iov *iov, bool read, void *ptr, int fd, size_t off, uint64_t len,
                      const void *userdata) {
    if (ior == NULL || ior->iorh == NULL || iov == NULL || iov->base == NULL || ptr == NULL) return -EINVAL;
    ring *r = ior->iorh;
    if (read != r->for_read || len == 0 || len > kMaxLen || off > (size_t)INT64_MAX - len) return -EINVAL;
    uintptr_t p = (uintptr_t)ptr, b = (uintptr_t)iov->base;
    if (p < b || p - b > iov->size || len > iov->size - (p - b)) return -EINVAL;
    fd_entry *e = fd_acquire(fd);
    if (e == NULL) return -EBADF;
    if ((read && e->accmode == O_WRONLY) || (!read && e->accmode == O_RDONLY)) {
        fd_release(e);
        return -EACCES;
    }
    bool direct = e->direct >= 0 && p % kDirectAlign == 0 && off % kDirectAlign == 0 && len % kDirectAlign == 0;
    pthread_mutex_lock(&r->lock);
    if (r->free_count == 0) {
        pthread_mutex_unlock(&r->lock);
        fd_release(e);
        return -EAGAIN;
    }
    int index = r->free_slots[--r->free_count];
    const iov_handle *h = iov->iovh;
    r->slots[index] = (slot){e, direct ? e->direct : e->dup, ptr, off, (unsigned)len, userdata, b, iov->size, h ? h->gen : 0, true};
    r->pending[r->pending_count++] = index;
    pthread_mutex_unlock(&r->lock);
    return index;
}

// Hands prepared I/Os to the kernel: all of them (io_depth 0), batches of at most -io_depth (io_depth < 0),
// or whole batches of io_depth only (io_depth > 0: the rest waits for more). Under r->lock.
static int flush_some(ring *r, bool all) {
    if (io_uring_sq_ready(&r->ring) > 0) io_uring_submit(&r->ring);  // what an earlier failed submit left behind
    int n = r->pending_count;
    if (r->io_depth > 0 && !all) n -= n % r->io_depth;
    int batch = r->io_depth < 0 ? -r->io_depth : n;
    int done = 0, err = 0;
    while (done < n) {
        int now = n - done < batch ? n - done : batch;
        for (int i = 0; i < now; ++i) {
            slot *s = &r->slots[r->pending[done + i]];
            struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);  // never NULL: the queue has a place per slot
            int fixed = fixed_index(r, s);
            if (fixed >= 0) {
                if (r->for_read) {
                    io_uring_prep_read_fixed(sqe, s->fd, s->ptr, s->len, s->off, fixed);
                } else {
                    io_uring_prep_write_fixed(sqe, s->fd, s->ptr, s->len, s->off, fixed);
                }
            } else if (r->for_read) {
                io_uring_prep_read(sqe, s->fd, s->ptr, s->len, s->off);
            } else {
                io_uring_prep_write(sqe, s->fd, s->ptr, s->len, s->off);
            }
            io_uring_sqe_set_data64(sqe, (uint64_t)r->pending[done + i]);
        }
        // Once in the queue they are in flight, whatever submit says: a failed submit leaves them for the next.
        r->inflight += now;
        done += now;
        int sent = io_uring_submit(&r->ring);
        if (sent < 0 && err == 0) err = sent;
    }
    memmove(r->pending, r->pending + n, sizeof(int) * (size_t)(r->pending_count - n));
    r->pending_count -= n;
    return err;
}

static int flush(ring *r) {
    return flush_some(r, false);
}

API int hf3fs_submit_ios(const struct hf3fs_ior *ior) {
    if (ior == NULL || ior->iorh == NULL) return -EINVAL;
    ring *r = ior->iorh;
    pthread_mutex_lock(&r->lock);
    int err = flush(r);
    pthread_mutex_unlock(&r->lock);
    return err;
}

// Takes the completions that are there, at most room of them, into out.
static int reap(ring *r, struct hf3fs_cqe *out, int room) {
    int n = 0;
    struct io_uring_cqe *cqe;
    while (n < room && io_uring_peek_cqe(&r->ring, &cqe) == 0) {
        int index = (int)io_uring_cqe_get_data64(cqe);
        out[n].index = index;
        out[n].reserved = 0;
        out[n].result = cqe->res;
        io_uring_cqe_seen(&r->ring, cqe);
        pthread_mutex_lock(&r->lock);
        slot *s = &r->slots[index];
        out[n].userdata = s->userdata;
        fd_entry *file = s->busy ? s->file : NULL;
        s->busy = false;
        s->file = NULL;
        r->free_slots[r->free_count++] = index;
        r->inflight--;
        pthread_mutex_unlock(&r->lock);
        if (file != NULL) fd_release(file);
        ++n;
    }
    return n;
}

API int hf3fs_wait_for_ios(const struct hf3fs_ior *ior, struct hf3fs_cqe *cqes, int cqec, int min_results,
                           const struct timespec *abs_timeout) {
    if (ior == NULL || ior->iorh == NULL || cqes == NULL || cqec <= 0) return -EINVAL;
    ring *r = ior->iorh;
    int want = min_results < 0 ? 0 : (min_results > cqec ? cqec : min_results);
    pthread_mutex_lock(&r->lock);
    int err = flush(r);
    pthread_mutex_unlock(&r->lock);
    if (err) return err;
    int n = 0;
    for (;;) {
        n += reap(r, cqes + n, cqec - n);
        if (n >= want || n == cqec) return n;
        pthread_mutex_lock(&r->lock);
        int inflight = r->inflight;
        if (inflight == 0 && r->pending_count > 0) {  // a partial batch waits for no more: send it rather than nothing
            err = flush_some(r, true);
            inflight = r->inflight;
        }
        pthread_mutex_unlock(&r->lock);
        if (err) return n > 0 ? n : err;
        if (inflight == 0) return n;  // nothing can complete: return rather than wait for ever
        struct io_uring_cqe *cqe;
        int rc;
        if (abs_timeout == NULL) {
            rc = io_uring_wait_cqe(&r->ring, &cqe);
        } else {
            struct timespec now;
            clock_gettime(CLOCK_REALTIME, &now);
            long long secs = (long long)abs_timeout->tv_sec - now.tv_sec;
            if (secs > 1000000000ll) secs = 1000000000ll;  // some 30 years: far enough, and no overflow below
            long long left = secs * 1000000000ll + (abs_timeout->tv_nsec - now.tv_nsec);
            if (left <= 0) return n;
            struct __kernel_timespec ts = {left / 1000000000ll, left % 1000000000ll};
            rc = io_uring_wait_cqe_timeout(&r->ring, &cqe, &ts);
            if (rc == -ETIME) {
                n += reap(r, cqes + n, cqec - n);
                return n;
            }
        }
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN) return n > 0 ? n : rc;
    }
}
