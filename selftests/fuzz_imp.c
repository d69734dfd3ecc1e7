// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_test's importer calls (see fuzz_model.h): open and close of importer
 * files, IMPORT of our buffers and of a udmabuf, RELEASE, MAP, UNMAP,
 * STATUS, DMA, the event queue, and unknown commands on both modules.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "exporter_lib.h"
#include "fuzz_model.h"

/* An open importer file slot, opening one if there is none. */
static int fuzz_imp_slot(struct fuzz *f)
{
	int i = fuzz_rand(f, FUZZ_IMPS);

	if (f->imp[i].fd < 0 && f->imp[!i].fd >= 0)
		i = !i;
	if (f->imp[i].fd >= 0)
		return i;
	f->imp[i] = (struct fuzz_imp){ .fd = open(f->imp_node, O_RDWR | O_CLOEXEC) };
	fuzz_note(f, "open importer %d: fd %d", i, f->imp[i].fd);
	if (f->imp[i].fd < 0)
		fuzz_fail(f, "open %s: %s", f->imp_node, strerror(errno));
	return f->imp[i].fd < 0 ? -1 : i;
}

/* The import of file @i with handle @h, or -1. */
static int fuzz_find(struct fuzz *f, int i, __u32 h)
{
	int k;

	for (k = 0; k < FUZZ_IMPORTS; k++)
		if (f->import[k].used && f->import[k].imp == i &&
		    f->import[k].handle == h)
			return k;
	return -1;
}

/* Mostly a live handle of file @i; else another file's, a stale one, junk. */
static __u32 fuzz_handle(struct fuzz *f, int i)
{
	unsigned int v = fuzz_rand(f, 8), n = fuzz_rand(f, FUZZ_IMPORTS), j;
	int k;

	for (j = 0; v < 5 && j < FUZZ_IMPORTS; j++) {
		k = (n + j) % FUZZ_IMPORTS;
		if (f->import[k].used && f->import[k].imp == i)
			return f->import[k].handle;
	}
	k = fuzz_any_import(f);
	if (v < 6 && k >= 0)
		return f->import[k].handle;
	if (v == 6)
		return f->stale[fuzz_rand(f, 8)];
	return fuzz_rand(f, 2) ? 0 : fuzz_rand(f, 0xffffffffU);
}

static void fuzz_drop_import(struct fuzz *f, int k)
{
	int b = f->import[k].buf;

	f->stale[fuzz_rand(f, 8)] = f->import[k].handle;
	memset(&f->import[k], 0, sizeof(f->import[k]));
	fuzz_put_buf(f, b);
}

void fuzz_imp_open_close(struct fuzz *f)
{
	int i = fuzz_rand(f, FUZZ_IMPS), k;

	if (f->imp[i].fd < 0) {
		f->imp[i] = (struct fuzz_imp){ .fd = open(f->imp_node, O_RDWR | O_CLOEXEC) };
		fuzz_note(f, "open importer %d: fd %d", i, f->imp[i].fd);
		fuzz_result(f, "open(importer)", f->imp[i].fd < 0 ? errno : 0, 0);
		return;
	}
	/* Closing releases every import of the file. */
	for (k = 0; k < FUZZ_IMPORTS; k++)
		if (f->import[k].used && f->import[k].imp == i)
			fuzz_drop_import(f, k);
	fuzz_note(f, "close importer %d (fd %d)", i, f->imp[i].fd);
	fuzz_result(f, "close(importer)", close(f->imp[i].fd) ? errno : 0, 0);
	f->imp[i] = (struct fuzz_imp){ .fd = -1 };
}

/* A udmabuf in a free buffer slot, or -1. */
static int fuzz_foreign_buf(struct fuzz *f)
{
	int b;

	if (!f->foreign_ok)
		return -1;
	for (b = 0; b < FUZZ_BUFS && f->buf[b].used; b++)
		;
	if (b == FUZZ_BUFS)
		return -1;
	f->buf[b] = (struct fuzz_buf){
		.used = true, .foreign = true, .fd = foreign_dmabuf(),
		.owner = -1, .size = PAGE,
	};
	if (f->buf[b].fd < 0) {
		fuzz_fail(f, "udmabuf: %s", strerror(errno));
		f->buf[b].used = false;
		return -1;
	}
	/* The CPU's view, to check what DMA moves; kept until released. */
	f->buf[b].cpu = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
			     f->buf[b].fd, 0);
	if (f->buf[b].cpu == MAP_FAILED) {
		fuzz_fail(f, "mmap(udmabuf): %s", strerror(errno));
		f->buf[b].cpu = NULL;
	}
	return b;
}

void fuzz_imp_import(struct fuzz *f)
{
	struct p2pbuf_imp_import in;
	enum fuzz_fault fault = fuzz_pick_fault(f);
	unsigned int v = fuzz_rand(f, 12);
	int i = fuzz_imp_slot(f), k, b = -1, want = 0, ret;

	if (i < 0)
		return;
	for (k = 0; k < FUZZ_IMPORTS && f->import[k].used; k++)
		;
	if (k == FUZZ_IMPORTS) {
		fuzz_imp_handle_op(f);
		return;
	}
	memset(&in, 0, sizeof(in));
	in.argsz = sizeof(in);
	in.flags = fuzz_rand(f, 2) ? P2PBUF_IMP_IMPORT_PINNED : 0;
	if (v == 9) {
		in.fd = fuzz_bad_fd(f);
		want = EBADF;
	} else if (v == 10) {
		in.fd = f->imp[i].fd;	/* open, not a dma-buf */
		want = EINVAL;
	} else {
		b = v == 0 ? fuzz_foreign_buf(f) : fuzz_any_buf(f, true);
		if (b < 0)
			return;
		in.fd = f->buf[b].fd;
		if (!f->buf[b].foreign && f->buf[b].revoked)
			want = ENODEV;
		else if (!f->buf[b].foreign && !f->can_map)
			want = EXDEV;
	}
	if (fault == FUZZ_FLAGS)
		in.flags |= 2U << fuzz_rand(f, 31);
	if (fault == FUZZ_RESERVED)
		in.reserved = 1ULL << fuzz_rand(f, 64);
	ret = fuzz_ioctl(f, f->imp[i].fd, P2PBUF_IMP_IMPORT, &in, sizeof(in),
			 fault, &want);
	fuzz_note(f, "IMPORT importer %d buf %d fd %d: %d", i, b, in.fd, ret);
	if (!fuzz_result(f, "IMPORT", ret, want) || ret)
		return;
	if (!in.handle || fuzz_find(f, i, in.handle) >= 0 || in.size != f->buf[b].size)
		fuzz_fail(f, "IMPORT: handle %u (in use or 0?), size %llu, want %llu",
			  in.handle, (unsigned long long)in.size,
			  (unsigned long long)f->buf[b].size);
	f->import[k] = (struct fuzz_import){
		.used = true, .imp = i, .buf = b, .handle = in.handle,
		.want_pin = in.flags, .pinned = in.flags,
	};
}

void fuzz_imp_handle_op(struct fuzz *f)
{
	bool release = !fuzz_rand(f, 3);
	enum fuzz_fault fault = fuzz_pick_fault(f);
	struct p2pbuf_imp_handle h;
	int i = fuzz_imp_slot(f), k, want, ret;

	if (i < 0)
		return;
	memset(&h, 0, sizeof(h));
	h.argsz = sizeof(h);
	h.handle = fuzz_handle(f, i);
	k = fuzz_find(f, i, h.handle);
	want = k < 0 ? ENOENT : release || f->import[k].mapped ? 0 : ENXIO;
	if (fault == FUZZ_FLAGS)
		h.flags = 1U << fuzz_rand(f, 32);
	if (fault == FUZZ_RESERVED)
		h.reserved = 1 + fuzz_rand(f, 0xffff);
	ret = fuzz_ioctl(f, f->imp[i].fd, release ? P2PBUF_IMP_RELEASE : P2PBUF_IMP_UNMAP,
			 &h, sizeof(h), fault, &want);
	if (!fuzz_result(f, release ? "RELEASE" : "UNMAP", ret, want) || ret)
		return;
	if (release)
		fuzz_drop_import(f, k);
	else
		f->import[k].mapped = false;
}

/* The map type the importer reports for buffer @b. */
static __u32 fuzz_buf_map_type(struct fuzz *f, int b)
{
	return f->buf[b].foreign ? P2PBUF_MAP_NOT_P2P : f->expect;
}

void fuzz_imp_map(struct fuzz *f)
{
	struct p2pbuf_imp_seg segs[8];
	enum fuzz_fault fault = fuzz_pick_fault(f);
	struct p2pbuf_imp_map m;
	int i = fuzz_imp_slot(f), k, want, ret;
	struct fuzz_import *im;

	if (i < 0)
		return;
	memset(&m, 0, sizeof(m));
	m.argsz = sizeof(m);
	m.handle = fuzz_handle(f, i);
	m.max_segs = fuzz_rand(f, 9);
	m.segs = (uintptr_t)segs;
	k = fuzz_find(f, i, m.handle);
	im = k < 0 ? NULL : &f->import[k];
	if (!im)
		want = ENOENT;
	else if (im->mapped)
		want = EBUSY;
	else if (f->buf[im->buf].revoked)
		want = ENODEV;
	else
		want = 0;
	/* Segments that cannot be copied out: MAP undoes itself. */
	if (!want && m.max_segs && !fuzz_rand(f, 8)) {
		m.segs = (uintptr_t)(f->area + PAGE);
		want = EFAULT;
	}
	if (fault == FUZZ_FLAGS)
		m.flags = 1U << fuzz_rand(f, 32);
	if (fault == FUZZ_RESERVED)
		m.reserved = 1ULL << fuzz_rand(f, 64);
	ret = fuzz_ioctl(f, f->imp[i].fd, P2PBUF_IMP_MAP, &m, sizeof(m), fault, &want);
	if (!fuzz_result(f, "MAP", ret, want) || ret)
		return;
	if (m.map_type != fuzz_buf_map_type(f, im->buf) || !m.nr_segs ||
	    m.length != f->buf[im->buf].size)
		fuzz_fail(f, "MAP: type %u, want %u; %u segments; length %llu, want %llu",
			  m.map_type, fuzz_buf_map_type(f, im->buf), m.nr_segs,
			  (unsigned long long)m.length,
			  (unsigned long long)f->buf[im->buf].size);
	im->mapped = true;
	im->invalidated = false;
	im->pinned = im->want_pin;
	im->map_type = m.map_type;
}

void fuzz_imp_status(struct fuzz *f)
{
	enum fuzz_fault fault = fuzz_pick_fault(f);
	struct p2pbuf_imp_status st;
	int i = fuzz_imp_slot(f), k, want, ret;
	struct fuzz_import *im;
	__u32 state;

	if (i < 0)
		return;
	memset(&st, 0, sizeof(st));
	st.argsz = sizeof(st);
	st.handle = fuzz_handle(f, i);
	k = fuzz_find(f, i, st.handle);
	want = k < 0 ? ENOENT : 0;
	if (fault == FUZZ_FLAGS)
		st.flags = 1U << fuzz_rand(f, 32);
	if (fault == FUZZ_RESERVED)
		st.reserved = 1ULL << fuzz_rand(f, 64);
	ret = fuzz_ioctl(f, f->imp[i].fd, P2PBUF_IMP_STATUS, &st, sizeof(st), fault, &want);
	if (!fuzz_result(f, "STATUS", ret, want) || ret)
		return;
	im = &f->import[k];
	state = (im->mapped ? P2PBUF_IMP_STATE_MAPPED : 0) |
		(im->invalidated ? P2PBUF_IMP_STATE_INVALIDATED : 0) |
		(im->pinned ? P2PBUF_IMP_STATE_PINNED : 0) |
		(f->buf[im->buf].readonly ? P2PBUF_IMP_STATE_READONLY : 0) |
		(f->buf[im->buf].writeonly ? P2PBUF_IMP_STATE_WRITEONLY : 0);
	if (st.state != state || st.map_type != im->map_type ||
	    st.invalidations != im->invalidations || !st.nr_segs != !im->mapped ||
	    st.length != (im->mapped ? f->buf[im->buf].size : 0))
		fuzz_fail(f,
			  "STATUS of handle %u: state %#x type %u invalidations %llu segments %u length %llu; model: %#x %u %llu mapped %d",
			  st.handle, st.state, st.map_type,
			  (unsigned long long)st.invalidations, st.nr_segs,
			  (unsigned long long)st.length, state, im->map_type,
			  (unsigned long long)im->invalidations, im->mapped);
}

/*
 * What a successful DMA moved must be what the CPU sees: written data in the
 * buffer, read data from it (through the BAR or the udmabuf's mapping).
 */
static void fuzz_dma_check(struct fuzz *f, int b, const struct p2pbuf_imp_dma *d,
			   const unsigned char *data)
{
	unsigned char *p;
	__u64 i;

	for (i = 0; i < d->length; i++) {
		p = fuzz_buf_byte(f, b, d->offset + i);
		if (!p) {
			fuzz_fail(f, "DMA: no CPU view of byte %llu of the buffer",
				  (unsigned long long)(d->offset + i));
			return;
		}
		if (*p != data[i]) {
			fuzz_fail(f, "DMA %s: byte %llu is %#x, the CPU sees %#x",
				  d->flags == P2PBUF_IMP_DMA_TO_BUF ? "to" : "from",
				  (unsigned long long)(d->offset + i), data[i], *p);
			return;
		}
	}
}

/* DMA: the engine is slow under TCG, so transfers are short and rare. */
void fuzz_imp_dma(struct fuzz *f)
{
	enum fuzz_fault fault = fuzz_pick_fault(f);
	unsigned char data[64];
	struct p2pbuf_imp_dma d;
	unsigned int v = fuzz_rand(f, 8);
	int i = fuzz_imp_slot(f), k, want, ret;
	bool bad_data = !fuzz_rand(f, 8);
	__u64 size, j;

	if (i < 0)
		return;
	memset(&d, 0, sizeof(d));
	d.argsz = sizeof(d);
	d.flags = fuzz_rand(f, 2) ? P2PBUF_IMP_DMA_TO_BUF : P2PBUF_IMP_DMA_FROM_BUF;
	d.handle = fuzz_handle(f, i);
	d.data = (uintptr_t)(bad_data ? f->area + PAGE : (char *)data);
	d.length = 1 + fuzz_rand(f, sizeof(data));
	for (j = 0; j < sizeof(data); j++)
		data[j] = fuzz_rand(f, 256);
	k = fuzz_find(f, i, d.handle);
	/*
	 * A read-only import refuses writes, a write-only one reads (-EACCES):
	 * importer_safety_test.
	 */
	if (k >= 0 && f->buf[f->import[k].buf].readonly)
		d.flags = P2PBUF_IMP_DMA_FROM_BUF;
	if (k >= 0 && f->buf[f->import[k].buf].writeonly)
		d.flags = P2PBUF_IMP_DMA_TO_BUF;
	size = k < 0 ? PAGE : f->buf[f->import[k].buf].size;
	d.offset = v ? fuzz_rand(f, size - d.length + 1) : size - d.length;
	if (v == 1)
		d.length = 0;
	else if (v == 2)
		d.length = f->dma_max + 1;
	else if (v == 3)
		d.offset = size - d.length + 1;
	if (!f->dma_max)
		want = EOPNOTSUPP;
	else if (v == 1 || v == 2)
		want = EINVAL;		/* length checked while staging the data */
	else if (bad_data && d.flags == P2PBUF_IMP_DMA_TO_BUF)
		want = EFAULT;		/* staged: copied in before the lookup */
	else if (k < 0)
		want = ENOENT;
	else if (v >= 1 && v <= 3)
		want = EINVAL;
	else if (!f->import[k].mapped)
		want = ENXIO;
	else
		want = bad_data ? EFAULT : 0;
	if (fault == FUZZ_FLAGS)
		d.flags = fuzz_rand(f, 2) ? 0 : d.flags | 4U << fuzz_rand(f, 30);
	if (fault == FUZZ_RESERVED)
		d.reserved = 1 + fuzz_rand(f, 0xffff);
	ret = fuzz_ioctl(f, f->imp[i].fd, P2PBUF_IMP_DMA, &d, sizeof(d), fault, &want);
	if (fuzz_result(f, "DMA", ret, want) && !ret)
		fuzz_dma_check(f, f->import[k].buf, &d, data);
}

/* Read what file @i has queued: exactly the events the model generated. */
void fuzz_imp_events(struct fuzz *f, int i)
{
	struct fuzz_imp *imp = &f->imp[i];
	struct p2pbuf_imp_event ev;
	unsigned int n = 0;
	__u64 last = 0;

	if (imp->fd < 0)
		return;
	if (!fuzz_rand(f, 8)) {
		fuzz_result(f, "read(short)",
			    read(imp->fd, &ev, 1 + fuzz_rand(f, sizeof(ev) - 1)) < 0 ? errno : 0,
			    EINVAL);
		return;
	}
	for (;;) {
		struct pollfd pfd = { .fd = imp->fd, .events = POLLIN };

		if (poll(&pfd, 1, 0) != 1)
			break;
		if (read(imp->fd, &ev, sizeof(ev)) != sizeof(ev)) {
			fuzz_fail(f, "read(events): %s", strerror(errno));
			return;
		}
		if (ev.type != P2PBUF_IMP_EVENT_INVALIDATED || !ev.invalidations ||
		    ev.seq <= last)
			fuzz_fail(f, "event: type %u seq %llu after %llu", ev.type,
				  (unsigned long long)ev.seq, (unsigned long long)last);
		last = ev.seq;
		n++;
	}
	if (n != imp->queued || (n && last != imp->seq))
		fuzz_fail(f, "events: %u read, last seq %llu; model: %u queued, seq %llu",
			  n, (unsigned long long)last, imp->queued,
			  (unsigned long long)imp->seq);
	f->nr_events += n;
	imp->queued = 0;
}

/* A command neither module knows, or the other module's: -ENOTTY. */
void fuzz_bad_cmd(struct fuzz *f)
{
	static const unsigned long ours[] = {
		P2PBUF_EXP_INFO, P2PBUF_EXP_EXPORT, P2PBUF_EXP_REVOKE,
		P2PBUF_EXP_RESTORE, P2PBUF_EXP_QUERY, P2PBUF_IMP_INFO,
		P2PBUF_IMP_IMPORT, P2PBUF_IMP_RELEASE, P2PBUF_IMP_MAP,
		P2PBUF_IMP_UNMAP, P2PBUF_IMP_STATUS, P2PBUF_IMP_DMA,
	};
	bool exp = fuzz_rand(f, 2);
	int fd, s = exp ? fuzz_exp_slot(f) : fuzz_imp_slot(f);
	unsigned long cmd;
	unsigned int j;

	if (s < 0)
		return;
	fd = exp ? f->exp[s] : f->imp[s].fd;
	if (fuzz_rand(f, 3)) {
		/* The other module's command: first 5 are the exporter's. */
		j = exp ? 5 + fuzz_rand(f, 7) : fuzz_rand(f, 5);
		cmd = ours[j];
	} else {
again:
		cmd = _IOC(fuzz_rand(f, 4), 0xb8 + fuzz_rand(f, 8), fuzz_rand(f, 0x40),
			   fuzz_rand(f, 0x4000));
		for (j = 0; j < ARRAY_SIZE(ours); j++)
			if (cmd == ours[j])
				goto again;
	}
	memset(f->area, 0, PAGE);
	fuzz_result(f, "unknown ioctl", ioctl(fd, cmd, f->area) ? errno : 0, ENOTTY);
}
