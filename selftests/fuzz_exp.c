// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_test's exporter calls (see fuzz_model.h): open and close of exporter
 * files, INFO, EXPORT with ranges at and past the edges of the BARs,
 * REVOKE and RESTORE, QUERY, and the close of dma-buf fds. Each predicts
 * its result from the model, issues the call, checks the result and the
 * output fields, and updates the model.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "exporter_lib.h"
#include "fuzz_model.h"

#define FUZZ_MAX_LEN	(4 * PAGE)

/* An open exporter file slot, opening one if there is none. */
int fuzz_exp_slot(struct fuzz *f)
{
	int s = fuzz_rand(f, FUZZ_EXPS);

	if (f->exp[s] >= 0)
		return s;
	if (f->exp[!s] >= 0)
		return !s;
	f->exp[s] = open(f->exp_node, O_RDWR | O_CLOEXEC);
	fuzz_note(f, "open exporter slot %d: fd %d", s, f->exp[s]);
	if (f->exp[s] < 0)
		fuzz_fail(f, "open %s: %s", f->exp_node, strerror(errno));
	return f->exp[s] < 0 ? -1 : s;
}

void fuzz_exp_open_close(struct fuzz *f)
{
	int s = fuzz_rand(f, FUZZ_EXPS), b;

	if (f->exp[s] < 0) {
		f->exp[s] = open(f->exp_node, O_RDWR | O_CLOEXEC);
		fuzz_note(f, "open exporter slot %d: fd %d", s, f->exp[s]);
		fuzz_result(f, "open(exporter)", f->exp[s] < 0 ? errno : 0, 0);
		return;
	}
	/* The close revokes every live buffer of the file, for good. */
	for (b = 0; b < FUZZ_BUFS; b++) {
		if (!f->buf[b].used || f->buf[b].foreign || f->buf[b].owner != s)
			continue;
		if (!f->buf[b].revoked)
			fuzz_revoke_buf(f, b);
		f->buf[b].owner = -1;
	}
	fuzz_note(f, "close exporter slot %d (fd %d)", s, f->exp[s]);
	fuzz_result(f, "close(exporter)", close(f->exp[s]) ? errno : 0, 0);
	f->exp[s] = -1;
}

void fuzz_exp_info(struct fuzz *f)
{
	enum fuzz_fault fault = fuzz_pick_fault(f);
	struct p2pbuf_exp_info info;
	int s = fuzz_exp_slot(f), want = 0, ret;

	if (s < 0)
		return;
	memset(&info, 0, sizeof(info));
	info.argsz = sizeof(info);
	if (fault == FUZZ_FLAGS)
		info.flags = 1U << fuzz_rand(f, 32);
	if (fault == FUZZ_RESERVED)
		info.reserved = 1 + fuzz_rand(f, 0xffff);
	ret = fuzz_ioctl(f, f->exp[s], P2PBUF_EXP_INFO, &info, sizeof(info),
			 fault, &want);
	if (!fuzz_result(f, "INFO", ret, want) || ret)
		return;
	if (info.nr_bars != P2PBUF_EXP_NUM_BARS ||
	    memcmp(info.bars, f->info.bars, sizeof(info.bars)))
		fuzz_fail(f, "INFO: %u BARs, or the BARs changed", info.nr_bars);
}

/* A free buffer slot, or -1. */
static int fuzz_free_buf(struct fuzz *f)
{
	int b;

	for (b = 0; b < FUZZ_BUFS; b++)
		if (!f->buf[b].used)
			return b;
	return -1;
}

/* One valid range of BAR @bar: a few pages, sometimes the BAR's last ones. */
static struct p2pbuf_exp_range fuzz_range(struct fuzz *f, __u64 bar_size)
{
	struct p2pbuf_exp_range r;
	__u64 pages = bar_size / PAGE;

	r.length = PAGE * (1 + fuzz_rand(f, FUZZ_MAX_LEN / PAGE));
	if (r.length > bar_size)
		r.length = bar_size;
	if (fuzz_rand(f, 4))
		r.offset = PAGE * fuzz_rand(f, pages - r.length / PAGE + 1);
	else
		r.offset = bar_size - r.length;
	return r;
}

/*
 * EXPORT, valid or broken in one way: @variant picks the broken field.
 * Returns the errno the call must fail with, 0 for a valid one.
 */
static int fuzz_export_args(struct fuzz *f, struct p2pbuf_exp_export *e,
			    struct p2pbuf_exp_range *r, unsigned int variant)
{
	const struct p2pbuf_exp_bar_info *bi;
	__u64 bar_size = f->info.bars[FUZZ_BAR].size;
	__u32 i;

	e->bar = FUZZ_BAR;
	e->nr_ranges = 1 + fuzz_rand(f, 3);
	for (i = 0; i < e->nr_ranges; i++)
		r[i] = fuzz_range(f, bar_size);
	e->ranges = (uintptr_t)r;
	e->open_flags = fuzz_rand(f, 3) | (fuzz_rand(f, 2) ? O_CLOEXEC : 0);
	switch (variant) {
	case 0:		/* past the end of the BAR */
		r[0].offset = bar_size - r[0].length + PAGE * (1 + fuzz_rand(f, 4));
		return -EINVAL;
	case 1:		/* unaligned or empty */
		i = fuzz_rand(f, 3);
		if (i == 0)
			r[0].offset += 1 + fuzz_rand(f, PAGE - 1);
		else if (i == 1)
			r[0].length += 1 + fuzz_rand(f, PAGE - 1);
		else
			r[0].length = 0;
		return -EINVAL;
	case 2:		/* offset + length overflows */
		r[0].offset = ~0ULL & ~(PAGE - 1);
		r[0].length = PAGE * (2 + fuzz_rand(f, 4));
		return -EOVERFLOW;
	case 3:		/* total size with bit 63, or past 2^64 */
		e->nr_ranges = 2 + 2 * fuzz_rand(f, 2);
		for (i = 0; i < e->nr_ranges; i++)
			r[i] = (struct p2pbuf_exp_range){ 0, 1ULL << 62 };
		return -EINVAL;
	case 4:
		e->nr_ranges = 0;
		return -EINVAL;
	case 5:
		e->nr_ranges = P2PBUF_EXP_MAX_RANGES + 1 + fuzz_rand(f, 1000);
		return -E2BIG;
	case 6:
		e->ranges = fuzz_rand(f, 2) ? 0 : (uintptr_t)(f->area + PAGE);
		return -EFAULT;
	case 7:
		e->bar = P2PBUF_EXP_NUM_BARS + fuzz_rand(f, 1000);
		return -EINVAL;
	case 8:
		e->open_flags = fuzz_rand(f, 2) ? O_ACCMODE : O_RDWR | O_NONBLOCK;
		return -EINVAL;
	case 9:		/* another BAR: a provider if INFO says so */
		e->bar = fuzz_rand(f, P2PBUF_EXP_NUM_BARS);
		bi = &f->info.bars[e->bar];
		e->nr_ranges = 1;
		r[0] = (struct p2pbuf_exp_range){ 0, PAGE };
		if (!(bi->flags & P2PBUF_EXP_BAR_PROVIDER))
			return -EOPNOTSUPP;
		return bi->size < PAGE ? -EINVAL : 0;
	default:
		return 0;
	}
}

void fuzz_exp_export(struct fuzz *f)
{
	struct p2pbuf_exp_range r[4];
	struct p2pbuf_exp_export e;
	enum fuzz_fault fault = FUZZ_NONE;
	int s = fuzz_exp_slot(f), b = fuzz_free_buf(f), want, ret;
	__u64 size = 0;
	__u32 i;

	if (s < 0)
		return;
	if (b < 0) {
		fuzz_buf_close(f);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.argsz = sizeof(e);
	want = -fuzz_export_args(f, &e, r, fuzz_rand(f, 24));
	if (!want) {
		fault = fuzz_pick_fault(f);
		if (fault == FUZZ_FLAGS)	/* bit 0 is DEVICE_READONLY */
			e.flags = 2U << fuzz_rand(f, 31);
		if (fault == FUZZ_RESERVED)
			e.reserved = 1ULL << fuzz_rand(f, 64);
	}
	e.fd = -1;
	ret = fuzz_ioctl(f, f->exp[s], P2PBUF_EXP_EXPORT, &e, sizeof(e),
			 fault, &want);
	fuzz_note(f, "EXPORT slot %d buf %d: %d, fd %d", s, b, ret, ret ? -1 : e.fd);
	if (!fuzz_result(f, "EXPORT", ret, want) || ret)
		return;
	for (i = 0; i < e.nr_ranges; i++)
		size += r[i].length;
	if (e.size != size || e.fd < 0)
		fuzz_fail(f, "EXPORT: size %llu, want %llu; fd %d",
			  (unsigned long long)e.size, (unsigned long long)size, e.fd);
	f->buf[b] = (struct fuzz_buf){
		.used = true, .fd = e.fd, .owner = s, .bar = e.bar,
		.nr_ranges = e.nr_ranges, .size = size,
		.readonly = (e.open_flags & O_ACCMODE) == O_RDONLY,
		.writeonly = (e.open_flags & O_ACCMODE) == O_WRONLY,
	};
	memcpy(f->buf[b].ranges, r, e.nr_ranges * sizeof(r[0]));
}

/* The count REVOKE or RESTORE of exporter file @s changes, for @b or all. */
static __u32 fuzz_revoke_model(struct fuzz *f, int s, int only, bool revoke)
{
	__u32 count = 0;
	int b;

	for (b = 0; b < FUZZ_BUFS; b++) {
		struct fuzz_buf *buf = &f->buf[b];

		if (!buf->used || buf->foreign || buf->owner != s ||
		    (only >= 0 && b != only) || buf->revoked == revoke)
			continue;
		count++;
		if (revoke)
			fuzz_revoke_buf(f, b);
		else
			fuzz_restore_buf(f, b);
	}
	return count;
}

void fuzz_exp_revoke(struct fuzz *f)
{
	bool revoke = fuzz_rand(f, 2);
	unsigned long cmd = revoke ? P2PBUF_EXP_REVOKE : P2PBUF_EXP_RESTORE;
	enum fuzz_fault fault = FUZZ_NONE;
	int s = fuzz_exp_slot(f), b = -1, want = 0, ret;
	struct p2pbuf_exp_revoke rv;
	unsigned int v = fuzz_rand(f, 12);

	if (s < 0)
		return;
	memset(&rv, 0, sizeof(rv));
	rv.argsz = sizeof(rv);
	if (v < 7) {
		b = fuzz_any_buf(f, true);
		if (b < 0)
			return;
		rv.fd = f->buf[b].fd;
		/* Not exported through this file: the owner's was closed, or another. */
		if (f->buf[b].foreign || f->buf[b].owner != s)
			want = EINVAL;
	} else if (v < 9) {
		rv.flags = P2PBUF_EXP_REVOKE_ALL;
		rv.fd = -1;
	} else if (v == 9) {
		rv.flags = P2PBUF_EXP_REVOKE_ALL;
		rv.fd = fuzz_rand(f, 2) ? f->exp[s] : (int)fuzz_rand(f, 1000);
		want = EINVAL;
	} else if (v == 10) {
		rv.fd = fuzz_bad_fd(f);
		want = EBADF;
	} else {
		rv.fd = f->exp[s];	/* open, but no dma-buf */
		want = EINVAL;
	}
	if (!want) {
		fault = fuzz_pick_fault(f);
		if (fault == FUZZ_FLAGS)
			rv.flags |= 2U << fuzz_rand(f, 31);
		if (fault == FUZZ_RESERVED)
			rv.reserved = 1ULL << fuzz_rand(f, 64);
	}
	rv.count = 0xdead;
	ret = fuzz_ioctl(f, f->exp[s], cmd, &rv, sizeof(rv), fault, &want);
	fuzz_note(f, "%s slot %d buf %d fd %d flags %#x: %d", revoke ? "REVOKE" : "RESTORE",
		  s, b, rv.fd, rv.flags, ret);
	if (!fuzz_result(f, revoke ? "REVOKE" : "RESTORE", ret, want) || ret)
		return;
	want = fuzz_revoke_model(f, s, b, revoke);
	if (rv.count != (__u32)want)
		fuzz_fail(f, "%s: count %u, want %d", revoke ? "REVOKE" : "RESTORE",
			  rv.count, want);
}

/* QUERY's attachments against the model's imports of buffer @b. */
static void fuzz_query_check(struct fuzz *f, int b, const struct p2pbuf_exp_query *q,
			     const struct p2pbuf_exp_attach_state *att, __u32 cap)
{
	const struct fuzz_buf *buf = &f->buf[b];
	__u32 n = 0, mapped = 0, seen = 0, i;

	for (i = 0; i < FUZZ_IMPORTS; i++) {
		n += f->import[i].used && f->import[i].buf == b;
		mapped += f->import[i].used && f->import[i].buf == b &&
			  f->import[i].mapped;
	}
	if (q->state != (buf->revoked ? P2PBUF_EXP_BUF_REVOKED : P2PBUF_EXP_BUF_LIVE) ||
	    q->size != buf->size || q->bar != buf->bar ||
	    q->nr_ranges != buf->nr_ranges || q->revokes != buf->revokes ||
	    q->nr_attachments != n)
		fuzz_fail(f,
			  "QUERY: state %u size %llu bar %u ranges %u revokes %u attachments %u; model: %d %llu %u %u %u %u",
			  q->state, (unsigned long long)q->size, q->bar, q->nr_ranges,
			  q->revokes, q->nr_attachments, buf->revoked,
			  (unsigned long long)buf->size, buf->bar, buf->nr_ranges,
			  buf->revokes, n);
	for (i = 0; i < n && i < cap; i++) {
		if (strcmp(att[i].importer, f->ibdf) || att[i].nr_mappings > 1 ||
		    (att[i].nr_mappings && att[i].map_type != f->expect))
			fuzz_fail(f, "QUERY: attachment %u: %s, %u mappings, type %u",
				  i, att[i].importer, att[i].nr_mappings, att[i].map_type);
		seen += att[i].nr_mappings;
	}
	if (cap >= n && seen != mapped)
		fuzz_fail(f, "QUERY: %u mappings, the model has %u", seen, mapped);
}

void fuzz_exp_query(struct fuzz *f)
{
	struct p2pbuf_exp_attach_state att[FUZZ_IMPORTS];
	enum fuzz_fault fault = FUZZ_NONE;
	int s = fuzz_exp_slot(f), b, want = 0, ret, i, n = 0;
	struct p2pbuf_exp_query q;
	__u32 cap = fuzz_rand(f, FUZZ_IMPORTS + 1);

	if (s < 0)
		return;
	b = fuzz_any_buf(f, true);
	if (b < 0)
		return;
	memset(&q, 0, sizeof(q));
	memset(att, 0, sizeof(att));
	q.argsz = sizeof(q);
	q.fd = f->buf[b].fd;
	q.nr_attachments = cap;
	q.attachments = (uintptr_t)att;
	if (f->buf[b].foreign || f->buf[b].owner != s) {
		want = EINVAL;
	} else {
		for (i = 0; i < FUZZ_IMPORTS; i++)
			n += f->import[i].used && f->import[i].buf == b;
		/* The array is written only when there is something to write. */
		if (!fuzz_rand(f, 8)) {
			q.attachments = (uintptr_t)(f->area + PAGE);
			want = cap && n ? EFAULT : 0;
		}
		fault = fuzz_pick_fault(f);
		if (fault == FUZZ_FLAGS)
			q.flags = 1U << fuzz_rand(f, 32);
		if (fault == FUZZ_RESERVED)
			q.reserved = 1ULL << fuzz_rand(f, 64);
	}
	ret = fuzz_ioctl(f, f->exp[s], P2PBUF_EXP_QUERY, &q, sizeof(q), fault, &want);
	fuzz_note(f, "QUERY slot %d buf %d (owner %d%s) fd %d: %d", s, b, f->buf[b].owner,
		  f->buf[b].foreign ? ", foreign" : "", q.fd, ret);
	if (fuzz_result(f, "QUERY", ret, want) && !ret)
		fuzz_query_check(f, b, &q, att, cap);
}

void fuzz_buf_close(struct fuzz *f)
{
	int b = fuzz_any_buf(f, true);

	if (b < 0)
		return;
	fuzz_note(f, "close buf %d (fd %d)", b, f->buf[b].fd);
	fuzz_result(f, "close(dma-buf)", close(f->buf[b].fd) ? errno : 0, 0);
	f->buf[b].fd = -1;
	fuzz_put_buf(f, b);
}
