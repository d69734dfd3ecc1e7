// SPDX-License-Identifier: GPL-2.0
/*
 * pair_test: revocation reaching the importer. REVOKE and RESTORE, the
 * close of the exporter's file, an import of a revoked buffer, the event
 * queue's overflow, an unbind of the provider during DMA and a batch
 * revoke waiting for fences in parallel.
 *
 * Not a translation unit of its own: pair_test.c includes this file after
 * the pair fixture and the map and DMA tests, in the order the tests
 * register and run.
 */

/* P2PBUF_EXP_REVOKE or P2PBUF_EXP_RESTORE of one buffer. */
static int exp_revoke(int exp, unsigned long cmd, int dmabuf)
{
	struct p2pbuf_exp_revoke arg = {
		.argsz = sizeof(arg), .fd = dmabuf,
	};

	return imp_errno(ioctl(exp, cmd, &arg));
}

/* One invalidation event for @h, with a count matching STATUS. */
static void expect_one_event(struct __test_metadata *_metadata, int imp,
			     __u32 h)
{
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_event ev;

	ASSERT_EQ(0, imp_read_event(imp, &ev, 5000));
	EXPECT_EQ((__u64)P2PBUF_IMP_EVENT_INVALIDATED, ev.type);
	EXPECT_EQ(h, ev.handle);
	ASSERT_EQ(0, imp_status(imp, h, &st));
	EXPECT_LE(1U, ev.invalidations);
	EXPECT_GE(st.invalidations, ev.invalidations);
	EXPECT_LE(1U, ev.seq);
}

/* REVOKE unmaps the importer before it returns; RESTORE lets it map again. */
TEST_F_TIMEOUT(pair, revoke_and_restore, 60)
{
	__u32 pinned = variant->import_flags ? P2PBUF_IMP_STATE_PINNED : 0;
	struct p2pbuf_exp_query q;
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_map m;
	unsigned char buf[16];
	int dmabuf;
	__u32 h;

	if (self->expect == P2PBUF_MAP_NOT_SUPPORTED)
		SKIP(return, NO_ROUTE);
	dmabuf = export_two_ranges(self->exp);
	ASSERT_LE(0, dmabuf);
	ASSERT_EQ(0, imp_import(self->imp, dmabuf, variant->import_flags, &h,
				NULL));
	ASSERT_EQ(0, imp_map(self->imp, h, &m, NULL, 0));
	EXPECT_MAP_TYPE(self->expect, m.map_type);
	ASSERT_EQ(0, imp_drain_events(self->imp));

	ASSERT_EQ(0, exp_revoke(self->exp, P2PBUF_EXP_REVOKE, dmabuf));
	/* Returned: nothing maps the MMIO any more. */
	expect_exporter_view(_metadata, self->exp, self->ibdf, dmabuf, 0, 0);
	ASSERT_EQ(0, exp_query(self->exp, dmabuf, &q, NULL, 0));
	EXPECT_EQ((__u64)P2PBUF_EXP_BUF_REVOKED, q.state);
	expect_one_event(_metadata, self->imp, h);
	ASSERT_EQ(0, imp_status(self->imp, h, &st));
	EXPECT_EQ(P2PBUF_IMP_STATE_INVALIDATED, st.state);
	EXPECT_EQ(0U, st.nr_segs);
	EXPECT_EQ(0U, st.length);

	EXPECT_EQ(-ENODEV, imp_map(self->imp, h, &m, NULL, 0));
	EXPECT_EQ(self->iinfo.engine[0] ? -ENXIO : -EOPNOTSUPP,
		  imp_dma(self->imp, h, P2PBUF_IMP_DMA_FROM_BUF, 0, buf,
			  sizeof(buf)));
	ASSERT_EQ(0, imp_status(self->imp, h, &st));
	EXPECT_EQ(P2PBUF_IMP_STATE_INVALIDATED, st.state);

	ASSERT_EQ(0, exp_revoke(self->exp, P2PBUF_EXP_RESTORE, dmabuf));
	ASSERT_EQ(0, exp_query(self->exp, dmabuf, &q, NULL, 0));
	EXPECT_EQ((__u64)P2PBUF_EXP_BUF_LIVE, q.state);
	ASSERT_EQ(0, imp_map(self->imp, h, &m, NULL, 0));
	EXPECT_MAP_TYPE(self->expect, m.map_type);
	ASSERT_EQ(0, imp_status(self->imp, h, &st));
	EXPECT_EQ(P2PBUF_IMP_STATE_MAPPED | pinned, st.state);
	expect_exporter_view(_metadata, self->exp, self->ibdf, dmabuf, 1, self->expect);
	if (self->iinfo.engine[0]) {
		imp_pattern(buf, sizeof(buf), 9);
		ASSERT_EQ(0, imp_dma(self->imp, h, P2PBUF_IMP_DMA_TO_BUF, 64,
				     buf, sizeof(buf)));
		EXPECT_EQ(0U, bar_diff(self->bar, 64, buf, sizeof(buf)));
	}
	EXPECT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h));
	close(dmabuf);
}

/*
 * Closing the exporter's file revokes what was exported through it; where
 * p2pdma cannot route, an import is refused for the route before the close
 * and for the revoke after it.
 */
TEST_F_TIMEOUT(pair, revoke_by_exporter_close, 60)
{
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_map m;
	char path[PATH_MAX];
	int exp2, dmabuf;
	__u32 h;

	snprintf(path, sizeof(path), "/dev/p2pbuf-exp-%s", self->pbdf);
	exp2 = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, exp2);
	dmabuf = export_two_ranges(exp2);
	ASSERT_LE(0, dmabuf);
	if (self->expect == P2PBUF_MAP_NOT_SUPPORTED) {
		/* Nothing to invalidate; the refusal turns from route to revoke. */
		EXPECT_EQ(-EXDEV, imp_import(self->imp, dmabuf,
					     variant->import_flags, &h, NULL));
		close(exp2);
		EXPECT_EQ(-ENODEV, imp_import(self->imp, dmabuf,
					      variant->import_flags, &h, NULL));
		EXPECT_EQ(0, imp_drain_events(self->imp));
		close(dmabuf);
		return;
	}
	ASSERT_EQ(0, imp_import(self->imp, dmabuf, variant->import_flags, &h,
				NULL));
	ASSERT_EQ(0, imp_map(self->imp, h, &m, NULL, 0));
	ASSERT_EQ(0, imp_drain_events(self->imp));

	close(exp2);
	expect_one_event(_metadata, self->imp, h);
	ASSERT_EQ(0, imp_status(self->imp, h, &st));
	EXPECT_EQ(P2PBUF_IMP_STATE_INVALIDATED, st.state);
	EXPECT_EQ(-ENODEV, imp_map(self->imp, h, &m, NULL, 0));
	EXPECT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h));
	close(dmabuf);
}

/*
 * A revoked buffer refuses new attachments: the exporter's -ENODEV, checked
 * before the route, so in every topology. After RESTORE the import works,
 * or where p2pdma cannot route is refused for that again (-EXDEV).
 */
TEST_F(pair, import_of_revoked_refused)
{
	int dmabuf, after;
	__u32 h;

	dmabuf = export_two_ranges(self->exp);
	ASSERT_LE(0, dmabuf);
	if (self->expect == P2PBUF_MAP_NOT_SUPPORTED)
		EXPECT_EQ(-EXDEV, imp_import(self->imp, dmabuf,
					     variant->import_flags, &h, NULL));
	ASSERT_EQ(0, exp_revoke(self->exp, P2PBUF_EXP_REVOKE, dmabuf));
	EXPECT_EQ(-ENODEV, imp_import(self->imp, dmabuf, variant->import_flags,
				      &h, NULL));
	ASSERT_EQ(0, exp_revoke(self->exp, P2PBUF_EXP_RESTORE, dmabuf));
	after = imp_import(self->imp, dmabuf, variant->import_flags, &h, NULL);
	if (self->expect == P2PBUF_MAP_NOT_SUPPORTED) {
		EXPECT_EQ(-EXDEV, after);
	} else {
		ASSERT_EQ(0, after);
		EXPECT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h));
	}
	close(dmabuf);
}

/*
 * More invalidations than the event queue holds: the oldest are dropped,
 * the newest kept, and the loss shows as a gap in the sequence numbers.
 */
TEST_F_TIMEOUT(pair, event_queue_overflow, 120)
{
	struct p2pbuf_imp_event ev[80];
	struct p2pbuf_imp_status st;
	int dmabuf, i, n, flags;
	ssize_t got;
	__u32 h;

	if (self->expect == P2PBUF_MAP_NOT_SUPPORTED)
		SKIP(return, NO_ROUTE);
	dmabuf = export_two_ranges(self->exp);
	ASSERT_LE(0, dmabuf);
	ASSERT_EQ(0, imp_import(self->imp, dmabuf, variant->import_flags, &h,
				NULL));
	for (i = 0; i < 70; i++) {
		ASSERT_EQ(0, exp_revoke(self->exp, P2PBUF_EXP_REVOKE, dmabuf));
		ASSERT_EQ(0, exp_revoke(self->exp, P2PBUF_EXP_RESTORE, dmabuf));
	}
	ASSERT_EQ(0, imp_status(self->imp, h, &st));
	/*
	 * p2pbuf_exporter invalidates on REVOKE, and again on RESTORE to say
	 * that a map may succeed (docs/revoke.rst).
	 */
	ASSERT_EQ(140U, st.invalidations);

	flags = fcntl(self->imp, F_GETFL);
	ASSERT_EQ(0, fcntl(self->imp, F_SETFL, flags | O_NONBLOCK));
	got = read(self->imp, ev, sizeof(ev));
	ASSERT_LT(0, got);
	ASSERT_EQ(0U, got % sizeof(ev[0]));
	n = got / sizeof(ev[0]);
	/* The queue holds 64 events (docs/importer.rst). */
	EXPECT_EQ(64, n);
	for (i = 0; i < n; i++) {
		EXPECT_EQ(h, ev[i].handle);
		/* One import in this file: its count is the file's sequence. */
		EXPECT_EQ(st.invalidations - n + 1 + i, ev[i].seq);
		EXPECT_EQ(ev[i].seq, ev[i].invalidations);
	}
	EXPECT_EQ(-1, read(self->imp, ev, sizeof(ev)));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h));
	close(dmabuf);
}

/* One transfer on its own thread, timed. */
struct bg_dma {
	pthread_t thread;
	int imp;
	__u32 handle;
	__u64 offset;
	void *data;
	__u64 length;
	int ret;
	long long start_ms;
	long long end_ms;
};

static void *bg_dma_fn(void *arg)
{
	struct bg_dma *b = arg;

	b->start_ms = imp_now_ms();
	b->ret = imp_dma(b->imp, b->handle, P2PBUF_IMP_DMA_TO_BUF, b->offset,
			 b->data, b->length);
	b->end_ms = imp_now_ms();
	return NULL;
}

/*
 * Unbind the exporter while the initiator's engine writes into the buffer.
 * The revoke takes the buffer's dma_resv lock, which the transfer holds
 * until the engine is done (docs/importer.rst, Invalidation): the transfer
 * completes and its data lands, the unbind returns after it, and then the
 * import is invalidated: one event, -ENXIO for DMA, -ENODEV for MAP. The
 * provider is bound again afterwards and nothing is left of the buffer.
 */
TEST_F_TIMEOUT(pair, exporter_unbind_during_dma, 120)
{
	unsigned char data[4095], zero[R_LEN];
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_map m;
	struct bg_dma b;
	long long unbind_start, unbind_end;
	int dmabuf, bufs;
	char drv[64];
	__u32 h;

	if (self->expect == P2PBUF_MAP_NOT_SUPPORTED)
		SKIP(return, NO_ROUTE);
	ASSERT_EQ(sizeof(data), self->iinfo.dma_max)
		TH_LOG("the lab's initiator is an edu");
	bufs = p2pbuf_count_dmabufs("p2pbuf_exporter");
	dmabuf = export_two_ranges(self->exp);
	ASSERT_LE(0, dmabuf);
	ASSERT_EQ(0, imp_import(self->imp, dmabuf, variant->import_flags, &h,
				NULL));
	ASSERT_EQ(0, imp_map(self->imp, h, &m, NULL, 0));
	ASSERT_EQ(0, imp_drain_events(self->imp));
	memset(zero, 0, sizeof(zero));
	bar_fill(self->bar, 0, zero, R_LEN);
	bar_fill(self->bar, R_LEN, zero, R_LEN);

	/* Across the two ranges: two pieces, four edu commands, ~400 ms. */
	imp_pattern(data, sizeof(data), 31);
	b = (struct bg_dma){
		.imp = self->imp, .handle = h, .offset = R_LEN - 2000,
		.data = data, .length = sizeof(data),
	};
	ASSERT_EQ(0, pthread_create(&b.thread, NULL, bg_dma_fn, &b));
	usleep(100 * 1000);
	self->unbound = true;
	unbind_start = imp_now_ms();
	ASSERT_EQ(0, p2pbuf_pci_bind(self->pbdf, ""));
	unbind_end = imp_now_ms();
	ASSERT_EQ(0, pthread_join(b.thread, NULL));
	TH_LOG("transfer 0..%lld ms, unbind %lld..%lld ms", b.end_ms - b.start_ms,
	       unbind_start - b.start_ms, unbind_end - b.start_ms);
	ASSERT_LT(b.start_ms, unbind_start);
	EXPECT_EQ(0, b.ret) TH_LOG("transfer: %s", strerror(-b.ret));
	/*
	 * The unbind waits for the unmap, which the importer does once the
	 * engine is done; then both threads wake, in either order. Not
	 * waiting would end the unbind ~300 ms early: 50 ms of slack for
	 * the wake-ups (seen 1-3 ms the wrong way on one vCPU).
	 */
	EXPECT_LE(b.end_ms, unbind_end + 50) TH_LOG("unbind returned first");

	/* Invalidated once, after the transfer. */
	expect_one_event(_metadata, self->imp, h);
	ASSERT_EQ(0, imp_status(self->imp, h, &st));
	EXPECT_EQ(P2PBUF_IMP_STATE_INVALIDATED, st.state);
	EXPECT_EQ(1U, st.invalidations);
	EXPECT_EQ(-ENXIO, imp_dma(self->imp, h, P2PBUF_IMP_DMA_TO_BUF, 0, data,
				  16));
	EXPECT_EQ(-ENODEV, imp_map(self->imp, h, &m, NULL, 0));

	/* Bound again: the data the transfer wrote is in the BAR. */
	ASSERT_EQ(0, p2pbuf_pci_bind(self->pbdf, "p2pbuf_exporter"));
	imp_pci_driver(self->pbdf, drv, sizeof(drv));
	ASSERT_STREQ("p2pbuf_exporter", drv);
	self->unbound = false;
	EXPECT_EQ(0U, bar_diff(self->bar, b.offset, data, sizeof(data)));
	EXPECT_EQ(0U, bar_diff(self->bar, 0, zero, b.offset));
	EXPECT_EQ(0U, bar_diff(self->bar, b.offset + sizeof(data), zero,
			       EXPORT_SIZE - b.offset - sizeof(data)));

	EXPECT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h));
	close(dmabuf);
	EXPECT_EQ(bufs, p2pbuf_count_dmabufs("p2pbuf_exporter"));
}

/* sw_sync's debugfs ABI (drivers/dma-buf/sw_sync.c; not in uapi headers). */
struct sw_sync_create_fence_data {
	__u32 value;
	char name[32];
	__s32 fence;
};

#define SW_SYNC_IOC_CREATE_FENCE	_IOWR('W', 0, struct sw_sync_create_fence_data)
#define SW_SYNC_IOC_INC			_IOW('W', 1, __u32)
#define SW_SYNC_PATH			"/sys/kernel/debug/sync/sw_sync"

/* Add a fence of @timeline at @seqno to @dmabuf's reservation, as a write. */
static int add_write_fence(int timeline, __u32 seqno, int dmabuf)
{
	struct sw_sync_create_fence_data c = { .value = seqno };
	struct dma_buf_import_sync_file imp = { .flags = DMA_BUF_SYNC_WRITE };
	int ret;

	snprintf(c.name, sizeof(c.name), "p2pbuf-%u", seqno);
	if (ioctl(timeline, SW_SYNC_IOC_CREATE_FENCE, &c))
		return -errno;
	imp.fd = c.fence;
	ret = imp_errno(ioctl(dmabuf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &imp));
	close(c.fence);
	return ret;
}

/* A REVOKE_ALL on its own thread. */
struct bg_revoke {
	pthread_t thread;
	int exp;
	int count;		/* the ioctl's count, or -errno */
	int done;		/* __atomic */
};

static void *bg_revoke_fn(void *arg)
{
	struct bg_revoke *r = arg;
	struct p2pbuf_exp_revoke rv = {
		.argsz = sizeof(rv), .flags = P2PBUF_EXP_REVOKE_ALL, .fd = -1,
	};

	r->count = ioctl(r->exp, P2PBUF_EXP_REVOKE, &rv) ? -errno : (int)rv.count;
	__atomic_store_n(&r->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* Wait up to @ms for an event; its handle, or 0. */
static __u32 next_event(int imp, int ms)
{
	struct p2pbuf_imp_event ev;

	return imp_read_event(imp, &ev, ms) ? 0 : ev.handle;
}

/*
 * A batch revoke stops every buffer before it waits for any, so that the
 * importers finish in parallel (docs/revoke.rst): with an unsignalled fence
 * on each of two buffers, REVOKE_ALL invalidates both imports while it
 * waits, still waits while one fence is pending, and returns once both
 * signalled.
 */
TEST_F_TIMEOUT(pair, batch_revoke_waits_in_parallel, 90)
{
	struct p2pbuf_exp_query q;
	struct bg_revoke r = { 0 };
	struct p2pbuf_imp_map m;
	char path[PATH_MAX];
	int exp2, buf[2], timeline, i, seen[2] = { 0, 0 };
	__u32 h[2], one = 1, ev;

	if (self->expect == P2PBUF_MAP_NOT_SUPPORTED)
		SKIP(return, NO_ROUTE);
	ASSERT_EQ(0, p2pbuf_debugfs_mount());
	timeline = open(SW_SYNC_PATH, O_RDWR | O_CLOEXEC);
	/* CONFIG_SW_SYNC: in the lab's config, not in Debian's. */
	if (timeline < 0 && errno == ENOENT)
		p2pbuf_feature_missing(return, "no %s (CONFIG_SW_SYNC)", SW_SYNC_PATH);
	ASSERT_LE(0, timeline) TH_LOG("%s: %s", SW_SYNC_PATH, strerror(errno));
	snprintf(path, sizeof(path), "/dev/p2pbuf-exp-%s", self->pbdf);
	exp2 = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, exp2);
	for (i = 0; i < 2; i++) {
		buf[i] = export_two_ranges(exp2);
		ASSERT_LE(0, buf[i]);
		ASSERT_EQ(0, imp_import(self->imp, buf[i], variant->import_flags,
					&h[i], NULL));
		ASSERT_EQ(0, imp_map(self->imp, h[i], &m, NULL, 0));
		ASSERT_EQ(0, add_write_fence(timeline, i + 1, buf[i]));
	}
	ASSERT_EQ(0, imp_drain_events(self->imp));

	r.exp = exp2;
	ASSERT_EQ(0, pthread_create(&r.thread, NULL, bg_revoke_fn, &r));
	/* Both invalidated although the first buffer's fence is pending. */
	for (i = 0; i < 2; i++) {
		ev = next_event(self->imp, 5000);
		seen[0] += ev == h[0];
		seen[1] += ev == h[1];
	}
	EXPECT_EQ(1, seen[0]);
	EXPECT_EQ(1, seen[1]) TH_LOG("the second buffer waited for the first's fence");
	EXPECT_FALSE(__atomic_load_n(&r.done, __ATOMIC_SEQ_CST));

	/* One fence signalled: still waiting for the other. */
	ASSERT_EQ(0, ioctl(timeline, SW_SYNC_IOC_INC, &one));
	if (!seen[1]) {
		/* The serial revoke goes on to the second buffer now. */
		ev = next_event(self->imp, 5000);
		seen[1] += ev == h[1];
	}
	usleep(300 * 1000);
	EXPECT_FALSE(__atomic_load_n(&r.done, __ATOMIC_SEQ_CST));
	ASSERT_EQ(0, ioctl(timeline, SW_SYNC_IOC_INC, &one));
	ASSERT_EQ(0, pthread_join(r.thread, NULL));
	EXPECT_EQ(2, r.count);

	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, exp_query(exp2, buf[i], &q, NULL, 0));
		EXPECT_EQ((__u32)P2PBUF_EXP_BUF_REVOKED, q.state);
		EXPECT_EQ(-ENODEV, imp_map(self->imp, h[i], &m, NULL, 0));
		EXPECT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h[i]));
		close(buf[i]);
	}
	EXPECT_EQ(0, imp_drain_events(self->imp));
	close(exp2);
	close(timeline);
}
