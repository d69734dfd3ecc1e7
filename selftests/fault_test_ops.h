/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fault_test: the operations swept, each as prepare (before the failure is
 * armed), the call itself, and the check of what it left. Not a header of
 * its own: fault_test.c includes it after its fixture and helpers
 * (kselftest_harness.h allows one translation unit per program).
 */
#ifndef P2PBUF_FAULT_TEST_OPS_H
#define P2PBUF_FAULT_TEST_OPS_H

/* EXPORT: a new fd and buffer, or nothing at all. */

static bool export_prepare(struct __test_metadata *_metadata,
			   FAULT_SELF *self, struct step *s)
{
	return true;
}

static void export_call(FAULT_SELF *self, struct step *s)
{
	s->result = export_buf(self);
	s->ret = s->result < 0 ? -errno : 0;
}

static void export_check(struct __test_metadata *_metadata, FAULT_SELF *self,
			 struct step *s)
{
	struct p2pbuf_exp_query q;

	if (s->ret) {
		counts_unchanged(_metadata, self, s);
		return;
	}
	ASSERT_EQ(0, exp_query(self->p.exp, s->result, NULL, 0, &q));
	EXPECT_EQ(NR_RANGES, q.nr_ranges);
	EXPECT_EQ(6 * PAGE, q.size);
	EXPECT_EQ(s->dmabufs + 1, p2pbuf_count_dmabufs(EXP_NAME));
	close(s->result);
	counts_unchanged(_metadata, self, s);
}

/* IMPORT: an attachment and a handle, or neither. */

static bool import_prepare(struct __test_metadata *_metadata,
			   FAULT_SELF *self, struct step *s)
{
	s->buf = export_buf(self);
	ASSERT_LE(0, s->buf) TH_LOG("EXPORT: %s", strerror(errno));
	return true;
}

static void import_call_flags(FAULT_SELF *self, struct step *s, __u32 flags)
{
	s->result = imp_import(self->p.imp, s->buf, flags);
	s->ret = s->result < 0 ? -errno : 0;
}

static void import_call(FAULT_SELF *self, struct step *s)
{
	import_call_flags(self, s, 0);
}

static void import_pinned_call(FAULT_SELF *self, struct step *s)
{
	import_call_flags(self, s, P2PBUF_IMP_IMPORT_PINNED);
}

/*
 * Without an attachment the buffer goes away with its fd: a reference the
 * failed import kept would keep it in the counts.
 */
static void close_buf(struct __test_metadata *_metadata, FAULT_SELF *self,
		      struct step *s)
{
	close(s->buf);
	s->buf = -1;
	EXPECT_EQ(s->dmabufs - 1, p2pbuf_count_dmabufs(EXP_NAME));
	EXPECT_EQ(s->expbufs - 1, exp_debugfs_bufs(self->p.pbdf, NULL));
}

static void import_check(struct __test_metadata *_metadata, FAULT_SELF *self,
			 struct step *s)
{
	struct p2pbuf_imp_status st;
	__u32 att, maps, state;

	exp_state(_metadata, self, s->buf, &att, &maps, &state);
	if (s->ret) {
		EXPECT_EQ(0U, att) TH_LOG("failed IMPORT left an attachment");
	} else {
		EXPECT_EQ(1U, att);
		ASSERT_EQ(0, imp_status(self->p.imp, s->result, &st));
		EXPECT_EQ(0U, st.state & P2PBUF_IMP_STATE_MAPPED);
		EXPECT_EQ(0, imp_handle_op(self->p.imp, P2PBUF_IMP_RELEASE,
					   s->result));
	}
	EXPECT_EQ(s->fds, p2pbuf_count_fds());
	close_buf(_metadata, self, s);
}

/* MAP: mapped with every segment reported, or not mapped at all. */

static bool map_prepare(struct __test_metadata *_metadata, FAULT_SELF *self,
			struct step *s)
{
	if (!need_route(_metadata, self))
		return false;
	import_prepare(_metadata, self, s);
	s->handle = imp_import(self->p.imp, s->buf, 0);
	ASSERT_LE(0, s->handle) TH_LOG("IMPORT: %s", strerror(errno));
	return true;
}

static void map_call(FAULT_SELF *self, struct step *s)
{
	struct p2pbuf_imp_seg segs[NR_SEGS];
	struct p2pbuf_imp_map m = {
		.argsz = sizeof(m), .handle = s->handle, .max_segs = NR_SEGS,
		.segs = (uintptr_t)segs,
	};

	s->ret = ioctl(self->p.imp, P2PBUF_IMP_MAP, &m) ? -errno : 0;
}

static void map_check(struct __test_metadata *_metadata, FAULT_SELF *self,
		      struct step *s)
{
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_map m;
	__u32 att, maps, state;

	ASSERT_EQ(0, imp_status(self->p.imp, s->handle, &st));
	exp_state(_metadata, self, s->buf, &att, &maps, &state);
	EXPECT_EQ(1U, att);
	if (s->ret) {
		EXPECT_EQ(0U, st.state) TH_LOG("failed MAP left state %#x",
					       st.state);
		EXPECT_EQ(0U, maps) TH_LOG("failed MAP left a mapping");
		/* The import is intact: it maps now. */
		ASSERT_EQ(0, imp_map(self->p.imp, s->handle, &m))
			TH_LOG("MAP after a failed MAP: %s", strerror(errno));
	} else {
		EXPECT_EQ(P2PBUF_IMP_STATE_MAPPED, st.state);
		EXPECT_EQ(6 * PAGE, st.length);
		EXPECT_EQ(1U, maps);
	}
	EXPECT_EQ(0, imp_handle_op(self->p.imp, P2PBUF_IMP_UNMAP, s->handle));
	EXPECT_EQ(0, imp_handle_op(self->p.imp, P2PBUF_IMP_RELEASE, s->handle));
	EXPECT_EQ(s->fds, p2pbuf_count_fds());
	close_buf(_metadata, self, s);
}

/*
 * QUERY with room for one attachment: reported in full, or an error. Where
 * p2pdma cannot route, the import is refused and there is none to report.
 */

static bool query_prepare(struct __test_metadata *_metadata, FAULT_SELF *self,
			  struct step *s)
{
	if (self->routable)
		return map_prepare(_metadata, self, s);
	import_prepare(_metadata, self, s);
	EXPECT_ERRNO(EXDEV, imp_import(self->p.imp, s->buf, 0));
	return true;
}

static void query_call(FAULT_SELF *self, struct step *s)
{
	memset(&s->att, 0xa5, sizeof(s->att));
	s->ret = exp_query(self->p.exp, s->buf, &s->att, 1, &s->q) ? -errno : 0;
}

/* Every field of a successful QUERY of the imported, unmapped buffer. */
static void query_expect(struct __test_metadata *_metadata, FAULT_SELF *self,
			 const struct p2pbuf_exp_query *q,
			 const struct p2pbuf_exp_attach_state *att)
{
	unsigned char untouched[sizeof(*att)];

	EXPECT_EQ(sizeof(*q), q->argsz);
	EXPECT_EQ(0U, q->flags);
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_LIVE, q->state);
	EXPECT_EQ(6 * PAGE, q->size);
	EXPECT_EQ(self->p.bar, q->bar);
	EXPECT_EQ(NR_RANGES, q->nr_ranges);
	EXPECT_EQ(0U, q->revokes);
	EXPECT_EQ((uintptr_t)att, q->attachments);
	EXPECT_EQ(0U, q->reserved);
	if (!self->routable) {
		/* Nothing to report: the array is not written. */
		EXPECT_EQ(0U, q->nr_attachments);
		memset(untouched, 0xa5, sizeof(untouched));
		EXPECT_EQ(0, memcmp(untouched, att, sizeof(*att)));
		return;
	}
	EXPECT_EQ(1U, q->nr_attachments);
	EXPECT_STREQ(self->p.ibdf, att->importer);
	/* Imported, never mapped. */
	EXPECT_EQ((__u32)P2PBUF_MAP_UNKNOWN, att->map_type);
	EXPECT_EQ(0U, att->nr_mappings);
}

static void query_check(struct __test_metadata *_metadata, FAULT_SELF *self,
			struct step *s)
{
	struct p2pbuf_exp_attach_state att;
	struct p2pbuf_exp_query q;

	if (!s->ret) {
		EXPECT_EQ(s->buf, s->q.fd);
		query_expect(_metadata, self, &s->q, &s->att);
	}
	/* A failed QUERY changed nothing: the next one reports the same. */
	memset(&att, 0xa5, sizeof(att));
	ASSERT_EQ(0, exp_query(self->p.exp, s->buf, &att, 1, &q));
	query_expect(_metadata, self, &q, &att);
	if (s->handle >= 0)
		EXPECT_EQ(0, imp_handle_op(self->p.imp, P2PBUF_IMP_RELEASE,
					   s->handle));
	EXPECT_EQ(s->fds, p2pbuf_count_fds());
	close_buf(_metadata, self, s);
}

/*
 * REVOKE of a mapped buffer: revoked and unmapped everywhere, or unchanged.
 * Where p2pdma cannot route, of a buffer without attachments.
 */

static bool revoke_prepare(struct __test_metadata *_metadata, FAULT_SELF *self,
			   struct step *s)
{
	struct p2pbuf_imp_map m;

	if (!self->routable)
		return query_prepare(_metadata, self, s);
	if (!map_prepare(_metadata, self, s))
		return false;
	ASSERT_EQ(0, imp_map(self->p.imp, s->handle, &m))
		TH_LOG("MAP: %s", strerror(errno));
	return true;
}

static void revoke_call(FAULT_SELF *self, struct step *s)
{
	s->result = exp_revoke(self->p.exp, P2PBUF_EXP_REVOKE, 0, s->buf);
	s->ret = s->result < 0 ? -errno : 0;
}

static void revoke_check(struct __test_metadata *_metadata, FAULT_SELF *self,
			 struct step *s)
{
	struct p2pbuf_imp_status st;
	__u32 att, maps, state;

	exp_state(_metadata, self, s->buf, &att, &maps, &state);
	EXPECT_EQ(self->routable ? 1U : 0U, att);
	if (s->ret) {
		EXPECT_EQ((__u32)P2PBUF_EXP_BUF_LIVE, state);
	} else {
		EXPECT_EQ(1, s->result);
		EXPECT_EQ((__u32)P2PBUF_EXP_BUF_REVOKED, state);
		EXPECT_EQ(0U, maps);
	}
	if (s->handle >= 0) {
		ASSERT_EQ(0, imp_status(self->p.imp, s->handle, &st));
		EXPECT_EQ(s->ret ? P2PBUF_IMP_STATE_MAPPED :
			  P2PBUF_IMP_STATE_INVALIDATED, st.state);
		EXPECT_EQ(0, imp_handle_op(self->p.imp, P2PBUF_IMP_RELEASE,
					   s->handle));
	}
	EXPECT_EQ(s->fds, p2pbuf_count_fds());
	close_buf(_metadata, self, s);
}

/*
 * DMA into a mapped import: the data lands in the BAR, or a failed
 * transfer leaves the BAR as it was and the mapping intact.
 */

/* BAR offset of byte @off of a buffer of fault_ranges. */
static __u64 fault_bar_off(__u64 off)
{
	size_t i;

	for (i = 0; i < NR_RANGES; i++) {
		if (off < fault_ranges[i].length)
			return fault_ranges[i].offset + off;
		off -= fault_ranges[i].length;
	}
	return ~0ULL;
}

/* Copy @len bytes at byte @off of the buffer out of the BAR, or into it. */
static void fault_bar_io(FAULT_SELF *self, __u64 off, unsigned char *data,
			 size_t len, bool to_bar)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char *b = self->bar + fault_bar_off(off + i);

		if (to_bar)
			*b = data[i];
		else
			data[i] = *b;
	}
}

/* DMA_LEN bytes at DMA_OFF of the buffer, read by the device. */
static int imp_dma_read(FAULT_SELF *self, int handle, unsigned char *data)
{
	struct p2pbuf_imp_dma d = {
		.argsz = sizeof(d), .flags = P2PBUF_IMP_DMA_FROM_BUF,
		.handle = handle, .offset = DMA_OFF, .length = DMA_LEN,
		.data = (uintptr_t)data,
	};

	return ioctl(self->p.imp, P2PBUF_IMP_DMA, &d) ? -errno : 0;
}

static bool dma_prepare(struct __test_metadata *_metadata, FAULT_SELF *self,
			struct step *s)
{
	struct p2pbuf_imp_info info;
	unsigned int seed = ++self->steps;
	size_t i;

	memset(&info, 0, sizeof(info));
	info.argsz = sizeof(info);
	ASSERT_EQ(0, ioctl(self->p.imp, P2PBUF_IMP_INFO, &info));
	ASSERT_NE(0, info.engine[0]) TH_LOG("the lab's initiator is an edu");
	ASSERT_LE(DMA_LEN, info.dma_max);
	/* What the BAR holds before, and different data for the transfer. */
	for (i = 0; i < DMA_LEN; i++) {
		s->before[i] = (unsigned char)(seed * 31 + i);
		s->data[i] = (unsigned char)~s->before[i];
	}
	fault_bar_io(self, DMA_OFF, s->before, DMA_LEN, true);
	return revoke_prepare(_metadata, self, s);
}

static void dma_call(FAULT_SELF *self, struct step *s)
{
	struct p2pbuf_imp_dma d = {
		.argsz = sizeof(d), .flags = P2PBUF_IMP_DMA_TO_BUF,
		.handle = s->handle, .offset = DMA_OFF, .length = DMA_LEN,
		.data = (uintptr_t)s->data,
	};

	s->ret = ioctl(self->p.imp, P2PBUF_IMP_DMA, &d) ? -errno : 0;
}

static void dma_check(struct __test_metadata *_metadata, FAULT_SELF *self,
		      struct step *s)
{
	unsigned char now[DMA_LEN];
	struct p2pbuf_imp_status st;

	fault_bar_io(self, DMA_OFF, now, DMA_LEN, false);
	EXPECT_EQ(0, memcmp(s->ret ? s->before : s->data, now, DMA_LEN))
		TH_LOG("DMA %s, the BAR holds neither", s->ret ? "failed" : "succeeded");
	ASSERT_EQ(0, imp_status(self->p.imp, s->handle, &st));
	EXPECT_EQ(P2PBUF_IMP_STATE_MAPPED, st.state);
	EXPECT_EQ(6 * PAGE, st.length);
	/* The engine still works after a failed transfer: read it back. */
	memset(now, 0, sizeof(now));
	ASSERT_EQ(0, imp_dma_read(self, s->handle, now));
	EXPECT_EQ(0, memcmp(s->ret ? s->before : s->data, now, DMA_LEN));
	EXPECT_EQ(0, imp_handle_op(self->p.imp, P2PBUF_IMP_RELEASE, s->handle));
	EXPECT_EQ(s->fds, p2pbuf_count_fds());
	close_buf(_metadata, self, s);
}

/* open() of the importer's node: a file, or nothing. */

static void open_call(FAULT_SELF *self, struct step *s)
{
	s->result = open(self->p.imp_node, O_RDWR | O_CLOEXEC);
	s->ret = s->result < 0 ? -errno : 0;
}

static void open_check(struct __test_metadata *_metadata, FAULT_SELF *self,
		       struct step *s)
{
	struct p2pbuf_imp_info info;

	if (!s->ret) {
		memset(&info, 0, sizeof(info));
		info.argsz = sizeof(info);
		EXPECT_EQ(0, ioctl(s->result, P2PBUF_IMP_INFO, &info));
		close(s->result);
	}
	EXPECT_EQ(s->fds, p2pbuf_count_fds());
}

static const struct sweep_op op_export = {
	"EXPORT", export_prepare, export_call, export_check, expect_zero,
};

static const struct sweep_op op_import = {
	"IMPORT", import_prepare, import_call, import_check, expect_import,
};

static const struct sweep_op op_import_pinned = {
	"IMPORT (pinned)", import_prepare, import_pinned_call, import_check,
	expect_import,
};

static const struct sweep_op op_map = {
	"MAP", map_prepare, map_call, map_check, expect_zero,
};

static const struct sweep_op op_query = {
	"QUERY", query_prepare, query_call, query_check, expect_zero,
};

static const struct sweep_op op_revoke = {
	"REVOKE", revoke_prepare, revoke_call, revoke_check, expect_zero,
};

static const struct sweep_op op_dma = {
	"DMA", dma_prepare, dma_call, dma_check, expect_zero,
};

static const struct sweep_op op_open = {
	"open(importer)", export_prepare, open_call, open_check, expect_zero,
};

#endif /* P2PBUF_FAULT_TEST_OPS_H */
