/*
 * The USRBIO client API of DeepSeek's 3FS (hf3fs_usrbio.h), declared for infra4j: the same functions,
 * structs and constants, so that a program (or infra4j's Java bindings) works with either library behind
 * it. 3FS's own libhf3fs_api_shared.so reads and writes files on a 3FS mount through its fuse agent and
 * RDMA; libinfra4j_usrbio.so, built from native-src/src/main/c/usrbio/, implements the same calls over
 * io_uring for files of any local file system.
 *
 * Conventions (as 3FS's): the caller owns the structs; most calls return 0 or -errno, but hf3fs_reg_fd
 * returns a positive errno on failure (and 0 or minus a duplicate descriptor on success). A prepared I/O
 * holds a ring slot until wait_for_ios returns its completion; the completion's result is the byte count
 * (short at the end of a file) or -errno.
 */
#ifndef INFRA4J_USRBIO_H
#define INFRA4J_USRBIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HF3FS_SUPER_MAGIC 0x8f3f5fff

/* iorcreate4's flags. */
#define HF3FS_IOR_ALLOW_READ_UNCOMMITTED 1
#define HF3FS_IOR_FORBID_READ_HOLES 2

typedef void *hf3fs_iov_handle;
typedef void *hf3fs_ior_handle;

/* A data buffer shared with the I/O engine: base .. base + size, in blocks of block_size (0: one block). */
struct hf3fs_iov {
    uint8_t *base;
    hf3fs_iov_handle iovh;
    char id[16];
    char mount_point[256];
    size_t size;
    size_t block_size;
    int numa;
};

/* A ring of I/O requests, for reads or for writes. */
struct hf3fs_ior {
    struct hf3fs_iov iov;
    hf3fs_ior_handle iorh;
    char mount_point[256];
    bool for_read;
    int io_depth;
    int priority;
    int timeout;
    uint64_t flags;
};

/* One completion: the slot prep_io returned, the byte count or -errno, the caller's userdata. */
struct hf3fs_cqe {
    int32_t index;
    int32_t reserved;
    int64_t result;
    const void *userdata;
};

bool hf3fs_is_hf3fs(int fd);
int hf3fs_extract_mount_point(char *hf3fs_mount_point, int size, const char *path);

int hf3fs_iovcreate(struct hf3fs_iov *iov, const char *hf3fs_mount_point, size_t size, size_t block_size, int numa);
int hf3fs_iovopen(struct hf3fs_iov *iov, const uint8_t id[16], const char *hf3fs_mount_point, size_t size, size_t block_size,
                  int numa);
void hf3fs_iovunlink(struct hf3fs_iov *iov);
void hf3fs_iovdestroy(struct hf3fs_iov *iov);
int hf3fs_iovwrap(struct hf3fs_iov *iov, void *base, const uint8_t id[16], const char *hf3fs_mount_point, size_t size,
                  size_t block_size, int numa);

size_t hf3fs_ior_size(int entries);
int hf3fs_io_entries(const struct hf3fs_ior *ior);
int hf3fs_iorcreate(struct hf3fs_ior *ior, const char *hf3fs_mount_point, int entries, bool for_read, int io_depth, int numa);
int hf3fs_iorcreate2(struct hf3fs_ior *ior, const char *hf3fs_mount_point, int entries, bool for_read, int io_depth, int priority,
                     int numa);
int hf3fs_iorcreate3(struct hf3fs_ior *ior, const char *hf3fs_mount_point, int entries, bool for_read, int io_depth, int priority,
                     int timeout, int numa);
int hf3fs_iorcreate4(struct hf3fs_ior *ior, const char *hf3fs_mount_point, int entries, bool for_read, int io_depth, int timeout,
                     int numa, uint64_t flags);
void hf3fs_iordestroy(struct hf3fs_ior *ior);

int hf3fs_reg_fd(int fd, uint64_t flags);
void hf3fs_dereg_fd(int fd);

int hf3fs_prep_io(const struct hf3fs_ior *ior, const struct hf3fs_iov *iov, bool read, void *ptr, int fd, size_t off, uint64_t len,
                  const void *userdata);
int hf3fs_submit_ios(const struct hf3fs_ior *ior);
/* abs_timeout: an absolute CLOCK_REALTIME time, NULL to wait for min_results. Returns the completions
 * taken (possibly fewer than min_results on timeout, which is not an error) or -errno. */
int hf3fs_wait_for_ios(const struct hf3fs_ior *ior, struct hf3fs_cqe *cqes, int cqec, int min_results,
                       const struct timespec *abs_timeout);

#ifdef __cplusplus
}
#endif

#endif
