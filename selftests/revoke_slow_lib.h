/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of revoke_slow_test and revoke_bound_canary, without the harness
 * (each program includes it once, next to kselftest_harness.h): the lab's
 * misbehaving importer p2pbuf_slowimp (lab/test-modules/), sw_sync fences
 * attached to a dma-buf, the exporter's revoke bound, the kernel log, and a
 * thread that runs a revoke, a close or an unbind which is expected to
 * block.
 */
#ifndef P2PBUF_REVOKE_SLOW_LIB_H
#define P2PBUF_REVOKE_SLOW_LIB_H

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include <linux/dma-buf.h>
#include <linux/p2pbuf_exporter.h>

#include "slowimp_lib.h"
#include "exporter_lib.h"
#include "p2pbuf_test.h"

#define SLOW_BOUND_PARAM "/sys/module/p2pbuf_exporter/parameters/revoke_bound_ms"
/* The exporter names what a revoke waits for this often (P2PBUF_EXP_REVOKE_WARN_MS). */
#define SLOW_REPORT_MS	5000

/* Nanoseconds on CLOCK_MONOTONIC, the clock of the kernel's ktime_get_ns(). */
static inline long long slow_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline long long slow_ms(long long ns)
{
	return ns / 1000000;
}

/* The sw_sync ABI (drivers/dma-buf/sw_sync.c); not in the uapi headers. */
struct slow_sw_sync_create_fence {
	__u32 value;
	char name[32];
	__s32 fence;
};

#define SLOW_SW_SYNC_CREATE_FENCE _IOWR('W', 0, struct slow_sw_sync_create_fence)
#define SLOW_SW_SYNC_INC	_IOW('W', 1, __u32)

/* A new sw_sync timeline at 0, or -errno. */
static inline int slow_timeline(void)
{
	int fd = open("/sys/kernel/debug/sync/sw_sync", O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/*
 * Attach an unsignalled fence of @timeline (signalled when it reaches
 * @value) to @buf's reservation object, as a write fence if @write, else as
 * a read fence. 0 or -errno.
 */
static inline int slow_attach_fence(int timeline, __u32 value, int buf,
				    int write)
{
	struct slow_sw_sync_create_fence create = { .value = value };
	struct dma_buf_import_sync_file imp = {
		.flags = write ? DMA_BUF_SYNC_WRITE : DMA_BUF_SYNC_READ,
	};
	int ret = 0;

	snprintf(create.name, sizeof(create.name), "revoke_slow");
	if (ioctl(timeline, SLOW_SW_SYNC_CREATE_FENCE, &create))
		return -errno;
	imp.fd = create.fence;
	if (ioctl(buf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &imp))
		ret = -errno;
	close(create.fence);
	return ret;
}

/* Advance @timeline by one: signals the fences of the next value. */
static inline int slow_signal(int timeline)
{
	__u32 one = 1;

	return ioctl(timeline, SLOW_SW_SYNC_INC, &one) ? -errno : 0;
}

/* The exporter's revoke_bound_ms, or -errno. */
static inline long slow_bound_get(void)
{
	char val[32] = "";
	ssize_t n;
	int fd;

	fd = open(SLOW_BOUND_PARAM, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, val, sizeof(val) - 1);
	close(fd);
	return n > 0 ? strtol(val, NULL, 10) : -EIO;
}

static inline int slow_bound_set(long ms)
{
	char val[32];

	snprintf(val, sizeof(val), "%ld\n", ms);
	return p2pbuf_sysfs_write(SLOW_BOUND_PARAM, val);
}

/* /dev/kmsg, positioned after the records logged so far; or -errno. */
static inline int slow_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	lseek(fd, 0, SEEK_END);
	return fd;
}

/*
 * Wait up to @ms for a kernel log record that contains every string of the
 * NULL-terminated @words; its text goes to @line. Returns 1 when found, 0
 * on timeout, -errno on error.
 */
static inline int slow_kmsg_wait(int fd, const char * const *words, int ms,
				 char *line, size_t len)
{
	long long deadline = slow_now_ns() + ms * 1000000LL;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char rec[2048], *msg, *nl;
	ssize_t n;
	int i;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)	/* overwritten: go on */
			continue;
		if (n < 0 && errno == EAGAIN) {
			long long left = deadline - slow_now_ns();

			if (left <= 0)
				return 0;
			poll(&pfd, 1, (int)(left / 1000000) + 1);
			continue;
		}
		if (n < 0)
			return -errno;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		for (i = 0; words[i] && strstr(msg, words[i]); i++)
			;
		if (!words[i]) {
			snprintf(line, len, "%.*s", (int)len - 1, msg);
			return 1;
		}
	}
}

/* What the op thread does; each is expected to block. */
enum slow_op_kind {
	SLOW_OP_REVOKE,		/* P2PBUF_EXP_REVOKE of the buffer */
	SLOW_OP_CLOSE,		/* close of the exporter file */
	SLOW_OP_UNBIND,		/* unbind of the provider through sysfs */
};

struct slow_op {
	enum slow_op_kind kind;
	int exp;		/* exporter file */
	int buf;		/* dma-buf */
	const char *bdf;	/* provider */
	pthread_t thread;
	int started;
	int done;		/* atomic */
	int ret;		/* 0 or -errno (REVOKE: the count) */
	long long t0, t1;	/* slow_now_ns() before and after */
};

static inline void *slow_op_main(void *arg)
{
	struct slow_op *op = arg;
	int ret;

	op->t0 = slow_now_ns();
	switch (op->kind) {
	case SLOW_OP_REVOKE:
		ret = exp_revoke(op->exp, P2PBUF_EXP_REVOKE, 0, op->buf);
		ret = ret < 0 ? -errno : ret;
		break;
	case SLOW_OP_CLOSE:
		ret = close(op->exp) ? -errno : 0;
		break;
	default:
		ret = p2pbuf_pci_bind(op->bdf, "");
		break;
	}
	op->t1 = slow_now_ns();
	op->ret = ret;
	__atomic_store_n(&op->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static inline int slow_op_start(struct slow_op *op)
{
	int ret = pthread_create(&op->thread, NULL, slow_op_main, op);

	op->started = !ret;
	return -ret;
}

static inline int slow_op_done(struct slow_op *op)
{
	return __atomic_load_n(&op->done, __ATOMIC_ACQUIRE);
}

static inline void slow_op_join(struct slow_op *op)
{
	if (op->started)
		pthread_join(op->thread, NULL);
	op->started = 0;
}

/* What every test holds; slow_env_close() releases it in any state. */
struct slow_env {
	struct exp_pair p;
	bool routable;
	int slow;		/* /dev/p2pbuf-slowimp */
	int buf;		/* the dma-buf */
	int timeline;		/* sw_sync timeline */
	int kmsg;
	long bound;		/* revoke_bound_ms as found */
	bool bound_raised;
	bool unbound;		/* the provider must be bound again */
	struct slow_op op;
};

/* 0; 1 with @why: SKIP; -1 with @why: fail. */
static inline int slow_env_open(struct slow_env *e, char *why, size_t len)
{
	memset(e, 0, sizeof(*e));
	e->slow = -1;
	e->buf = -1;
	e->timeline = -1;
	e->kmsg = -1;
	if (exp_pair_open(&e->p, why, len))
		return 1;
	e->routable = e->p.expect != P2PBUF_MAP_NOT_SUPPORTED;
	if (e->p.expect == P2PBUF_MAP_UNKNOWN) {
		snprintf(why, len, "P2PBUF_EXPECT_MAP unset or unknown");
		return 1;
	}
	e->slow = slow_open(why, len);
	if (e->slow == -ENOENT)
		return 1;
	if (e->slow < 0)
		return -1;
	e->bound = slow_bound_get();
	if (e->bound < 0) {
		snprintf(why, len, "%s: %s", SLOW_BOUND_PARAM, strerror(-e->bound));
		return -1;
	}
	e->kmsg = slow_kmsg_open();
	if (e->kmsg < 0) {
		snprintf(why, len, "/dev/kmsg: %s", strerror(-e->kmsg));
		return -1;
	}
	return 0;
}

static inline void slow_env_close(struct slow_env *e)
{
	/* Let go of everything first: an op thread may still wait for it. */
	if (e->timeline >= 0)
		slow_signal(e->timeline);
	if (e->slow >= 0)
		ioctl(e->slow, P2PBUF_SLOWIMP_LET_GO);
	slow_op_join(&e->op);
	if (e->bound_raised)
		slow_bound_set(e->bound);
	if (e->unbound)
		p2pbuf_pci_bind(e->p.pbdf, EXP_NAME);
	if (e->slow >= 0)
		close(e->slow);
	if (e->buf >= 0)
		close(e->buf);
	if (e->timeline >= 0)
		close(e->timeline);
	if (e->kmsg >= 0)
		close(e->kmsg);
	exp_pair_close(&e->p);
}

static inline int slow_export(struct slow_env *e, __u64 pages)
{
	struct p2pbuf_exp_range r = { 0, pages * PAGE };

	e->buf = exp_export(e->p.exp, e->p.bar, &r, 1, O_RDWR | O_CLOEXEC, NULL);
	return e->buf;
}

#endif /* P2PBUF_REVOKE_SLOW_LIB_H */
