// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_test's model, argument faults and steps; no test harness here (see
 * fuzz_model.h). The model is what docs/uapi.rst and docs/revoke.rst say
 * the calls did: buffers revoked by REVOKE and by the close of their
 * exporter file, every import of a buffer invalidated (unmapped, unpinned,
 * counted, one event) by each revoke that changed it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "exporter_lib.h"
#include "fuzz_model.h"

void fuzz_init(struct fuzz *f)
{
	int i;

	memset(f, 0, sizeof(*f));
	f->bar = MAP_FAILED;
	for (i = 0; i < FUZZ_EXPS; i++)
		f->exp[i] = -1;
	for (i = 0; i < FUZZ_IMPS; i++)
		f->imp[i].fd = -1;
}

__u32 fuzz_map_type(const char *name)
{
	static const char * const names[] = {
		[P2PBUF_MAP_BUS_ADDR] = "BUS_ADDR",
		[P2PBUF_MAP_HOST_BRIDGE_DIRECT] = "HOST_BRIDGE_DIRECT",
		[P2PBUF_MAP_HOST_BRIDGE_IOVA] = "HOST_BRIDGE_IOVA",
		[P2PBUF_MAP_NOT_SUPPORTED] = "NOT_SUPPORTED",
	};
	__u32 t;

	for (t = 0; t < ARRAY_SIZE(names); t++)
		if (names[t] && name && !strcmp(name, names[t]))
			return t;
	return P2PBUF_MAP_UNKNOWN;
}

bool foreign_dmabuf_probe(void)
{
	int fd = foreign_dmabuf();

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* splitmix64: the whole run follows from the seed. */
static unsigned long long fuzz_next(struct fuzz *f)
{
	unsigned long long z = (f->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

unsigned int fuzz_rand(struct fuzz *f, unsigned int n)
{
	return n ? fuzz_next(f) % n : 0;
}

void fuzz_fail(struct fuzz *f, const char *fmt, ...)
{
	va_list ap;

	if (f->bad++)
		return;
	va_start(ap, fmt);
	vsnprintf(f->first, sizeof(f->first), fmt, ap);
	va_end(ap);
}

/* Record one call (which slots, which descriptors) for the failure report. */
void fuzz_note(struct fuzz *f, const char *fmt, ...)
{
	char *line = f->history[f->nr_history++ % FUZZ_HISTORY];
	int n;
	va_list ap;

	n = snprintf(line, sizeof(f->history[0]), "call %lu: ", f->call);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(f->history[0]) - n, fmt, ap);
	va_end(ap);
}

/* The calls fuzz_note() kept, oldest first. */
void fuzz_print_history(const struct fuzz *f)
{
	unsigned long i = f->nr_history > FUZZ_HISTORY ? f->nr_history - FUZZ_HISTORY : 0;

	for (; i < f->nr_history; i++)
		printf("# fuzz: %s\n", f->history[i % FUZZ_HISTORY]);
}

static const char *fuzz_errname(int err)
{
	static char buf[32];

	if (!err)
		return "success";
	snprintf(buf, sizeof(buf), "%s", strerrorname_np(err) ?: "?");
	return buf;
}

/* Count a result; false (and the run fails) unless it is @want. */
bool fuzz_result(struct fuzz *f, const char *what, int got, int want)
{
	char g[32];

	if (got == want) {
		if (got)
			f->nr_err++;
		else
			f->nr_ok++;
		return true;
	}
	snprintf(g, sizeof(g), "%s", fuzz_errname(got));
	fuzz_fail(f, "%s: %s, want %s", what, g, fuzz_errname(want));
	return false;
}

/* Most calls are valid: faults only in about one call of four. */
enum fuzz_fault fuzz_pick_fault(struct fuzz *f)
{
	if (fuzz_rand(f, 4))
		return FUZZ_NONE;
	return (enum fuzz_fault)fuzz_rand(f, FUZZ_NR_FAULTS);
}

/*
 * The smallest argsz @cmd takes: its structure's first ABI version. Only
 * QUERY has grown since (revoke_reasons and reserved2 after reserved).
 */
static size_t fuzz_minsz(unsigned long cmd, size_t size)
{
	if (cmd == P2PBUF_EXP_QUERY)
		return offsetof(struct p2pbuf_exp_query, reserved) +
		       sizeof(((struct p2pbuf_exp_query *)0)->reserved);
	return size;
}

/*
 * Issue @cmd with the structure @arg of @size bytes (argsz already @size),
 * placed and sized as @fault says, and copy the structure back. @want is
 * the result of the valid call; a fault that must fail replaces it.
 * FUZZ_FLAGS and FUZZ_RESERVED are set in @arg by the caller. Returns 0
 * or the errno.
 */
int fuzz_ioctl(struct fuzz *f, int fd, unsigned long cmd, void *arg,
	       size_t size, enum fuzz_fault fault, int *want)
{
	size_t minsz = fuzz_minsz(cmd, size);
	char *p = f->area;
	__u32 argsz = size;
	int ret;

	memset(f->area, 0, PAGE);
	switch (fault) {
	case FUZZ_ZERO_TAIL:
		argsz = size + 8 * (1 + fuzz_rand(f, 8));
		break;
	case FUZZ_SHORT:
		/* Between the first ABI version and today's: still valid. */
		if (minsz < size && fuzz_rand(f, 2)) {
			argsz = minsz + fuzz_rand(f, size - minsz);
			break;
		}
		argsz = fuzz_rand(f, minsz);
		*want = EINVAL;
		break;
	case FUZZ_TAIL:
		argsz = size + 8 * (1 + fuzz_rand(f, 8));
		p[size + fuzz_rand(f, argsz - size)] = 1 + fuzz_rand(f, 255);
		*want = E2BIG;
		break;
	case FUZZ_PAST_END:
		p = f->area + PAGE - size;
		argsz = size + 1 + fuzz_rand(f, 64);
		*want = EFAULT;
		break;
	case FUZZ_NULL:
	case FUZZ_GUARD:
		*want = EFAULT;
		break;
	case FUZZ_FLAGS:
	case FUZZ_RESERVED:
		*want = EINVAL;
		break;
	default:
		break;
	}
	if (fault == FUZZ_NULL)
		return ioctl(fd, cmd, NULL) ? errno : 0;
	if (fault == FUZZ_GUARD)
		return ioctl(fd, cmd, f->area + PAGE) ? errno : 0;
	memcpy(p, arg, size);
	memcpy(p, &argsz, sizeof(argsz));
	ret = ioctl(fd, cmd, p) ? errno : 0;
	memcpy(arg, p, size);
	((__u32 *)arg)[0] = size;
	return ret;
}

/* A descriptor number that is not open. */
int fuzz_bad_fd(struct fuzz *f)
{
	int fd;

	do
		fd = 600 + fuzz_rand(f, 300);
	while (fcntl(fd, F_GETFD) >= 0);
	return fd;
}

/* A random buffer slot in use (with an open fd if @open_fd), or -1. */
int fuzz_any_buf(struct fuzz *f, bool open_fd)
{
	int i, n = fuzz_rand(f, FUZZ_BUFS);

	for (i = 0; i < FUZZ_BUFS; i++) {
		int b = (n + i) % FUZZ_BUFS;

		if (f->buf[b].used && (!open_fd || f->buf[b].fd >= 0))
			return b;
	}
	return -1;
}

int fuzz_any_import(struct fuzz *f)
{
	int i, n = fuzz_rand(f, FUZZ_IMPORTS);

	for (i = 0; i < FUZZ_IMPORTS; i++)
		if (f->import[(n + i) % FUZZ_IMPORTS].used)
			return (n + i) % FUZZ_IMPORTS;
	return -1;
}

/* A revoke that found buffer @b live: every import of it is invalidated. */
void fuzz_revoke_buf(struct fuzz *f, int b)
{
	int i;

	f->buf[b].revoked = true;
	f->buf[b].revokes++;
	for (i = 0; i < FUZZ_IMPORTS; i++) {
		struct fuzz_import *im = &f->import[i];
		struct fuzz_imp *imp;

		if (!im->used || im->buf != b)
			continue;
		imp = &f->imp[im->imp];
		im->mapped = false;
		im->pinned = false;
		im->invalidated = true;
		im->invalidations++;
		imp->seq++;
		if (imp->queued < FUZZ_EVENTS)
			imp->queued++;
	}
}

/*
 * RESTORE of buffer @b: live again, and every import is invalidated once
 * more, which tells it that a map may succeed (nothing is mapped).
 */
void fuzz_restore_buf(struct fuzz *f, int b)
{
	int i;

	f->buf[b].revoked = false;
	for (i = 0; i < FUZZ_IMPORTS; i++) {
		struct fuzz_import *im = &f->import[i];
		struct fuzz_imp *imp;

		if (!im->used || im->buf != b)
			continue;
		imp = &f->imp[im->imp];
		im->invalidated = true;
		im->invalidations++;
		imp->seq++;
		if (imp->queued < FUZZ_EVENTS)
			imp->queued++;
	}
}

/* Forget buffer @b once neither its fd nor an import holds it. */
void fuzz_put_buf(struct fuzz *f, int b)
{
	int i;

	if (f->buf[b].fd >= 0)
		return;
	for (i = 0; i < FUZZ_IMPORTS; i++)
		if (f->import[i].used && f->import[i].buf == b)
			return;
	if (f->buf[b].cpu)
		munmap(f->buf[b].cpu, f->buf[b].size);
	memset(&f->buf[b], 0, sizeof(f->buf[b]));
	f->buf[b].fd = -1;
}

/*
 * The CPU's view of byte @off of buffer @b: the BAR behind one of our
 * buffer's ranges, or a udmabuf's mapping. NULL if there is none.
 */
unsigned char *fuzz_buf_byte(struct fuzz *f, int b, __u64 off)
{
	const struct fuzz_buf *buf = &f->buf[b];
	__u32 i;

	if (buf->foreign)
		return buf->cpu && off < buf->size ? buf->cpu + off : NULL;
	if (buf->bar != FUZZ_BAR || f->bar == MAP_FAILED)
		return NULL;
	for (i = 0; i < buf->nr_ranges && i < FUZZ_RANGES; i++) {
		if (off < buf->ranges[i].length)
			return buf->ranges[i].offset + off < f->bar_len ?
			       f->bar + buf->ranges[i].offset + off : NULL;
		off -= buf->ranges[i].length;
	}
	return NULL;
}

void fuzz_step(struct fuzz *f)
{
	static const struct {
		unsigned int weight;
		void (*fn)(struct fuzz *f);
	} ops[] = {
		{ 3, fuzz_exp_open_close },
		{ 3, fuzz_exp_info },
		{ 12, fuzz_exp_export },
		{ 12, fuzz_exp_revoke },
		{ 8, fuzz_exp_query },
		{ 4, fuzz_buf_close },
		{ 3, fuzz_imp_open_close },
		{ 12, fuzz_imp_import },
		{ 10, fuzz_imp_handle_op },
		{ 12, fuzz_imp_map },
		{ 8, fuzz_imp_status },
		{ 1, fuzz_imp_dma },
		{ 4, fuzz_bad_cmd },
	};
	unsigned int total = 0, n, i;

	for (i = 0; i < ARRAY_SIZE(ops); i++)
		total += ops[i].weight;
	/* Events: now and then, read what one importer file has queued. */
	if (!fuzz_rand(f, 16)) {
		fuzz_imp_events(f, fuzz_rand(f, FUZZ_IMPS));
		return;
	}
	n = fuzz_rand(f, total);
	for (i = 0; n >= ops[i].weight; i++)
		n -= ops[i].weight;
	ops[i].fn(f);
}

/* The fds the model holds open. */
int fuzz_open_fds(struct fuzz *f)
{
	int i, n = 0;

	for (i = 0; i < FUZZ_EXPS; i++)
		n += f->exp[i] >= 0;
	for (i = 0; i < FUZZ_IMPS; i++)
		n += f->imp[i].fd >= 0;
	for (i = 0; i < FUZZ_BUFS; i++)
		n += f->buf[i].used && f->buf[i].fd >= 0;
	return n;
}

void fuzz_drain_all(struct fuzz *f)
{
	int i;

	for (i = 0; i < FUZZ_IMPS; i++)
		fuzz_imp_events(f, i);
}

/* Close everything the model has open (idempotent). */
void fuzz_close_all(struct fuzz *f)
{
	int i;

	for (i = 0; i < FUZZ_IMPS; i++)
		if (f->imp[i].fd >= 0)
			close(f->imp[i].fd);
	for (i = 0; i < FUZZ_BUFS; i++)
		if (f->buf[i].used && f->buf[i].fd >= 0)
			close(f->buf[i].fd);
	for (i = 0; i < FUZZ_EXPS; i++)
		if (f->exp[i] >= 0)
			close(f->exp[i]);
	for (i = 0; i < FUZZ_IMPS; i++)
		f->imp[i] = (struct fuzz_imp){ .fd = -1 };
	for (i = 0; i < FUZZ_EXPS; i++)
		f->exp[i] = -1;
	for (i = 0; i < FUZZ_BUFS; i++)
		if (f->buf[i].used && f->buf[i].cpu)
			munmap(f->buf[i].cpu, f->buf[i].size);
	memset(f->buf, 0, sizeof(f->buf));
	memset(f->import, 0, sizeof(f->import));
}
