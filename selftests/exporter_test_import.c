// SPDX-License-Identifier: GPL-2.0
/*
 * exporter_test: through the p2pbuf importer: map types,
 * revoke of mapped buffers, close and unbind, and map/unmap leaks.
 *
 * Not a translation unit of its own: exporter_test.c includes this file
 * after the exporter fixture, in the order the tests register and run.
 */

/* Import and map; both sides agree on the map type of the topology. */
TEST_F(exporter, map_type)
{
	struct p2pbuf_exp_attach_state st[2];
	struct p2pbuf_imp_map m;
	struct p2pbuf_exp_query q;
	int buf, h;

	if (!have_importer(_metadata, self))
		return;
	ASSERT_NE((__u32)P2PBUF_MAP_UNKNOWN, self->expect)
		TH_LOG("P2PBUF_EXPECT_MAP unset or unknown");
	buf = export_pages(_metadata, self->fd, self->bar, 0, 16);
	ASSERT_LE(0, buf);

	h = imp_import(self->imp, buf, 0);
	if (self->expect == P2PBUF_MAP_NOT_SUPPORTED) {
		/* The exporter refuses the route at attach time. */
		EXPECT_EQ(-1, h);
		EXPECT_EQ(EXDEV, errno) TH_LOG("IMPORT: %s", strerror(errno));
		ASSERT_EQ(0, exp_query(self->fd, buf, st, 2, &q));
		EXPECT_EQ(0U, q.nr_attachments);
		close(buf);
		return;
	}
	ASSERT_LE(0, h) TH_LOG("IMPORT: %s", strerror(errno));

	ASSERT_EQ(0, exp_query(self->fd, buf, st, 2, &q));
	ASSERT_EQ(1U, q.nr_attachments);
	EXPECT_STREQ(self->initiator, st[0].importer);
	EXPECT_EQ((__u32)P2PBUF_MAP_UNKNOWN, st[0].map_type);
	EXPECT_EQ(0U, st[0].nr_mappings);

	ASSERT_EQ(0, imp_map(self->imp, h, &m)) TH_LOG("MAP: %s",
						       strerror(errno));
	EXPECT_EQ(16 * PAGE, m.length);
	EXPECT_EQ(self->expect, m.map_type) TH_LOG("importer says %u", m.map_type);

	ASSERT_EQ(0, exp_query(self->fd, buf, st, 2, &q));
	ASSERT_EQ(1U, q.nr_attachments);
	EXPECT_EQ(self->expect, st[0].map_type)
		TH_LOG("exporter says %u, lab expects %s", st[0].map_type,
		       p2pbuf_env("P2PBUF_EXPECT_MAP"));
	EXPECT_EQ(1U, st[0].nr_mappings);

	/* An array the kernel cannot write: EFAULT. */
	EXPECT_ERRNO(EFAULT, exp_query(self->fd, buf, (void *)8, 1, &q));

	ASSERT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_UNMAP, h));
	ASSERT_EQ(0, exp_query(self->fd, buf, st, 1, &q));
	EXPECT_EQ(0U, st[0].nr_mappings);
	EXPECT_EQ(self->expect, st[0].map_type);

	ASSERT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h));
	ASSERT_EQ(0, exp_query(self->fd, buf, st, 1, &q));
	EXPECT_EQ(0U, q.nr_attachments);
	close(buf);
}

/*
 * The exporter counts the attaches it refuses because p2pdma cannot route
 * (debugfs "no-route"), and explains the first refusal of every five
 * seconds with p2pdma's own warning (exporter/maptype.c). Where it routes,
 * the counter must not move. Where it does not (intel), a burst of refused
 * imports moves it by exactly the number of attempts and prints the warning
 * once; five seconds later the next refusal prints it again, after the
 * ratelimit's count of the suppressed ones. The refusal's dev_dbg() is
 * compiled out in the lab kernel (no CONFIG_DYNAMIC_DEBUG).
 */
#define NO_ROUTE_BURST		8
#define RATELIMIT_WAIT_S	6
#define NO_ROUTE_WARNING	"cannot be used for peer-to-peer DMA"

TEST_F_TIMEOUT(exporter, no_route_refusals, 60)
{
	static const char * const others[] = {
		"no-p2p", "not-revocable", "revoked",
	};
	long before, other0[ARRAY_SIZE(others)];
	char log[8192] = "", dev[64], count[64];
	int buf, kmsg, i, h, n;
	time_t t0;
	size_t k;

	if (!have_importer(_metadata, self))
		return;
	ASSERT_NE((__u32)P2PBUF_MAP_UNKNOWN, self->expect)
		TH_LOG("P2PBUF_EXPECT_MAP unset or unknown");
	ASSERT_EQ(0, p2pbuf_debugfs_mount());
	before = exp_debugfs_refused(self->bdf, "no-route");
	ASSERT_LE(0, before) TH_LOG("no refusal counters in debugfs: %s",
				    strerror(-before));
	for (k = 0; k < ARRAY_SIZE(others); k++)
		other0[k] = exp_debugfs_refused(self->bdf, others[k]);
	buf = export_pages(_metadata, self->fd, self->bar, 0, 4);
	ASSERT_LE(0, buf);

	if (self->expect != P2PBUF_MAP_NOT_SUPPORTED) {
		for (i = 0; i < NO_ROUTE_BURST; i++) {
			h = imp_import(self->imp, buf, i % 2 ? P2PBUF_IMP_IMPORT_PINNED : 0);
			ASSERT_LT(0, h) TH_LOG("IMPORT: %s", strerror(errno));
			ASSERT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h));
		}
		EXPECT_EQ(before, exp_debugfs_refused(self->bdf, "no-route"));
		close(buf);
		return;
	}

	/* Let the window of an earlier test's warning expire. */
	sleep(RATELIMIT_WAIT_S);
	kmsg = p2pbuf_kmsg_open();
	ASSERT_LE(0, kmsg) TH_LOG("/dev/kmsg: %s", strerror(-kmsg));
	snprintf(dev, sizeof(dev), "(%s)", self->bdf);
	t0 = time(NULL);
	for (i = 0; i < NO_ROUTE_BURST; i++)
		EXPECT_ERRNO(EXDEV, imp_import(self->imp, buf,
					       i % 2 ? P2PBUF_IMP_IMPORT_PINNED : 0));
	ASSERT_GT(4, time(NULL) - t0) TH_LOG("the burst outlasted the window");
	EXPECT_EQ(before + NO_ROUTE_BURST,
		  exp_debugfs_refused(self->bdf, "no-route"));
	ASSERT_LE(0, p2pbuf_kmsg_read(kmsg, log, sizeof(log)));
	n = p2pbuf_log_count(log, NO_ROUTE_WARNING, dev);
	EXPECT_EQ(1, n) TH_LOG("%d warnings for %d refusals:\n%s", n,
			       NO_ROUTE_BURST, log);

	/* The next window: first the count of the suppressed, then one more. */
	sleep(RATELIMIT_WAIT_S);
	log[0] = '\0';
	EXPECT_ERRNO(EXDEV, imp_import(self->imp, buf, 0));
	EXPECT_EQ(before + NO_ROUTE_BURST + 1,
		  exp_debugfs_refused(self->bdf, "no-route"));
	ASSERT_LE(0, p2pbuf_kmsg_read(kmsg, log, sizeof(log)));
	close(kmsg);
	snprintf(count, sizeof(count), "p2pbuf_exp_route: %d callbacks suppressed",
		 NO_ROUTE_BURST - 1);
	EXPECT_EQ(1, p2pbuf_log_count(log, count, NULL)) TH_LOG("%s", log);
	EXPECT_EQ(1, p2pbuf_log_count(log, NO_ROUTE_WARNING, dev)) TH_LOG("%s", log);

	/* No other reason moved; the buffer has no attachment. */
	for (k = 0; k < ARRAY_SIZE(others); k++)
		EXPECT_EQ(other0[k], exp_debugfs_refused(self->bdf, others[k]))
			TH_LOG("refusal counter %zu (no-p2p, not-revocable, revoked) moved",
			       k);
	close(buf);
}

/*
 * A buffer of several ranges maps in every topology that routes: one DMA
 * segment per range, or one segment of the whole buffer behind an IOMMU,
 * where p2pbuf links every range into one IOVA window (7.2.13's
 * dma_buf_phys_vec_to_sgt() alone would fail with EADDRINUSE there: see
 * exporter/sgt.c).
 */
TEST_F(exporter, map_ranges)
{
	struct p2pbuf_exp_range r[] = {
		{ 0, 2 * PAGE }, { 8 * PAGE, PAGE }, { 4 * PAGE, 3 * PAGE },
	};
	struct p2pbuf_imp_seg segs[4];
	struct p2pbuf_exp_attach_state st;
	struct p2pbuf_exp_query q;
	struct p2pbuf_imp_map m;
	__u64 size = 0;
	int buf, h;

	if (!have_route(_metadata, self))
		return;
	buf = exp_export(self->fd, self->bar, r, 3, O_RDWR, &size);
	ASSERT_LE(0, buf);
	h = imp_import(self->imp, buf, 0);
	ASSERT_LE(0, h) TH_LOG("IMPORT: %s", strerror(errno));
	memset(&m, 0, sizeof(m));
	m.argsz = sizeof(m);
	m.handle = h;
	m.max_segs = 4;
	m.segs = (uintptr_t)segs;
	ASSERT_EQ(0, ioctl(self->imp, P2PBUF_IMP_MAP, &m))
		TH_LOG("MAP: %s", strerror(errno));
	EXPECT_EQ(size, m.length);
	if (self->expect == P2PBUF_MAP_HOST_BRIDGE_IOVA) {
		/*
		 * Every range linked into one IOVA window (exporter/sgt.c);
		 * three segments would mean no window, which with the lab's
		 * spare IOVA space is a fault.
		 */
		EXPECT_EQ(1U, m.nr_segs);
		EXPECT_EQ(6 * PAGE, segs[0].len);
		EXPECT_EQ(0U, segs[0].addr & (PAGE - 1));
	} else {
		EXPECT_EQ(3U, m.nr_segs);
		EXPECT_EQ(2 * PAGE, segs[0].len);
		EXPECT_EQ(PAGE, segs[1].len);
		EXPECT_EQ(3 * PAGE, segs[2].len);
	}
	EXPECT_EQ(self->expect, m.map_type);
	ASSERT_EQ(0, exp_query(self->fd, buf, &st, 1, &q));
	EXPECT_EQ(self->expect, st.map_type);
	EXPECT_EQ(1U, st.nr_mappings);
	EXPECT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h));
	close(buf);
}

/* Importer state after the exporter revoked a mapped buffer. */
static void expect_revoked_import(struct __test_metadata *_metadata, int imp,
				  int h)
{
	struct p2pbuf_imp_status s;
	struct p2pbuf_imp_map m;

	ASSERT_EQ(0, imp_status(imp, h, &s));
	EXPECT_EQ(P2PBUF_IMP_STATE_INVALIDATED,
		  s.state & (P2PBUF_IMP_STATE_INVALIDATED |
			     P2PBUF_IMP_STATE_MAPPED));
	EXPECT_LE(1U, s.invalidations);
	EXPECT_ERRNO(ENODEV, imp_map(imp, h, &m));
}

TEST_F(exporter, revoke_mapped)
{
	struct p2pbuf_exp_attach_state st[2];
	struct p2pbuf_imp_map m;
	struct p2pbuf_exp_query q;
	int buf, pinned, h, h2, hp;

	if (!have_route(_metadata, self))
		return;
	buf = export_pages(_metadata, self->fd, self->bar, 0, 4);
	ASSERT_LE(0, buf);
	h = imp_import(self->imp, buf, 0);
	ASSERT_LE(0, h) TH_LOG("IMPORT: %s", strerror(errno));
	ASSERT_EQ(0, imp_map(self->imp, h, &m));

	/* Returns only once the importer has unmapped. */
	EXPECT_EQ(1, exp_revoke(self->fd, P2PBUF_EXP_REVOKE, 0, buf));
	ASSERT_EQ(0, exp_query(self->fd, buf, st, 2, &q));
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_REVOKED, q.state);
	EXPECT_EQ(1U, q.nr_attachments);
	EXPECT_EQ(0U, st[0].nr_mappings);
	expect_revoked_import(_metadata, self->imp, h);
	EXPECT_ERRNO(ENODEV, imp_import(self->imp, buf, 0));

	EXPECT_EQ(1, exp_revoke(self->fd, P2PBUF_EXP_RESTORE, 0, buf));
	ASSERT_EQ(0, imp_map(self->imp, h, &m)) TH_LOG("MAP: %s",
						       strerror(errno));
	EXPECT_EQ(self->expect, m.map_type);
	h2 = imp_import(self->imp, buf, 0);
	EXPECT_LE(0, h2) TH_LOG("IMPORT after RESTORE: %s", strerror(errno));
	ASSERT_EQ(0, exp_query(self->fd, buf, st, 2, &q));
	EXPECT_EQ(2U, q.nr_attachments);
	EXPECT_EQ(1U, st[0].nr_mappings + st[1].nr_mappings);
	EXPECT_EQ(1U, q.revokes);

	/* A pinned import is revocable too; REVOKE_ALL takes both buffers. */
	pinned = export_pages(_metadata, self->fd, self->bar, PAGE, 1);
	ASSERT_LE(0, pinned);
	hp = imp_import(self->imp, pinned, P2PBUF_IMP_IMPORT_PINNED);
	ASSERT_LE(0, hp) TH_LOG("IMPORT pinned: %s", strerror(errno));
	ASSERT_EQ(0, imp_map(self->imp, hp, &m));
	EXPECT_EQ(2, exp_revoke(self->fd, P2PBUF_EXP_REVOKE,
				P2PBUF_EXP_REVOKE_ALL, -1));
	expect_revoked_import(_metadata, self->imp, h);
	expect_revoked_import(_metadata, self->imp, hp);
	close(pinned);
	close(buf);
}

/* Closing the exporter file revokes its buffers for good. */
TEST_F(exporter, close_revokes)
{
	struct p2pbuf_imp_map m;
	struct p2pbuf_exp_query q;
	int bufs, buf, h = -1;
	char path[64];

	if (!have_importer(_metadata, self))
		return;
	buf = export_pages(_metadata, self->fd, self->bar, 0, 2);
	ASSERT_LE(0, buf);
	if (self->expect != P2PBUF_MAP_NOT_SUPPORTED) {
		h = imp_import(self->imp, buf, 0);
		ASSERT_LE(0, h) TH_LOG("IMPORT: %s", strerror(errno));
		ASSERT_EQ(0, imp_map(self->imp, h, &m));
	}
	bufs = p2pbuf_count_dmabufs(EXP_NAME);

	close(self->fd);
	self->fd = -1;

	if (h >= 0)
		expect_revoked_import(_metadata, self->imp, h);
	/* Revoked is checked before the route: ENODEV in every topology. */
	EXPECT_ERRNO(ENODEV, imp_import(self->imp, buf, 0));

	/* The dma-buf itself lives on. */
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", buf);
	EXPECT_EQ(0, access(path, R_OK));
	if (bufs >= 0)
		EXPECT_EQ(bufs, p2pbuf_count_dmabufs(EXP_NAME));

	/* No other file can bring it back. */
	self->fd = open(self->node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	EXPECT_ERRNO(EINVAL, exp_query(self->fd, buf, NULL, 0, &q));
	EXPECT_ERRNO(EINVAL, exp_revoke(self->fd, P2PBUF_EXP_RESTORE, 0, buf));
	EXPECT_EQ(0, exp_revoke(self->fd, P2PBUF_EXP_RESTORE,
				P2PBUF_EXP_REVOKE_ALL, -1));
	if (h >= 0)
		EXPECT_ERRNO(ENODEV, imp_map(self->imp, h, &m));
	close(buf);
}

/*
 * Unbind the provider while a dma-buf (mapped, where the topology allows)
 * and the exporter file are open: remove() revokes and drains, the old file
 * answers ENODEV, and a rebind starts afresh.
 */
TEST_F(exporter, unbind_revokes)
{
	struct p2pbuf_exp_range r = { 0, PAGE };
	struct p2pbuf_exp_info info;
	struct p2pbuf_imp_map m;
	struct p2pbuf_exp_query q;
	int buf, buf2, h = -1, fd;
	struct stat st;

	buf = export_pages(_metadata, self->fd, self->bar, 0, 2);
	ASSERT_LE(0, buf);
	if (self->imp >= 0 && self->expect != P2PBUF_MAP_NOT_SUPPORTED) {
		h = imp_import(self->imp, buf, 0);
		ASSERT_LE(0, h) TH_LOG("IMPORT: %s", strerror(errno));
		ASSERT_EQ(0, imp_map(self->imp, h, &m));
	} else {
		TH_LOG("unbind without a mapping: %s",
		       self->imp < 0 ? self->imp_missing : "no route");
	}

	self->unbound = 1;
	ASSERT_EQ(0, p2pbuf_pci_bind(self->bdf, ""));
	EXPECT_ERRNO(ENOENT, stat(self->node, &st));

	if (h >= 0)
		expect_revoked_import(_metadata, self->imp, h);
	if (self->imp >= 0)
		EXPECT_ERRNO(ENODEV, imp_import(self->imp, buf, 0));

	EXPECT_ERRNO(ENODEV, exp_info(self->fd, &info));
	EXPECT_ERRNO(ENODEV, exp_export(self->fd, self->bar, &r, 1, O_RDWR,
					NULL));
	EXPECT_ERRNO(ENODEV, exp_query(self->fd, buf, NULL, 0, &q));
	EXPECT_ERRNO(ENODEV, exp_revoke(self->fd, P2PBUF_EXP_REVOKE, 0, buf));
	EXPECT_ERRNO(ENODEV, exp_revoke(self->fd, P2PBUF_EXP_RESTORE, 0, buf));
	EXPECT_ERRNO(ENOTTY, ioctl(self->fd, _IO(P2PBUF_IOCTL_TYPE, 0x1f), &q));

	/* Rebind: a new node, a fresh state, and the old file stays dead. */
	ASSERT_EQ(0, p2pbuf_pci_bind(self->bdf, EXP_NAME));
	self->unbound = 0;
	fd = open(self->node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("%s after rebind: %s", self->node,
				strerror(errno));
	buf2 = exp_export(fd, self->bar, &r, 1, O_RDWR, NULL);
	EXPECT_LE(0, buf2);
	EXPECT_ERRNO(EINVAL, exp_query(fd, buf, NULL, 0, &q));
	EXPECT_ERRNO(ENODEV, exp_info(self->fd, &info));
	if (h >= 0)
		EXPECT_ERRNO(ENODEV, imp_map(self->imp, h, &m));
	close(buf2);
	close(fd);
	close(buf);
}

/*
 * Thousands of map/unmap cycles, then kmemleak: nothing allocated on the
 * map path may be left behind (dma_buf_free_sgt() would leak the
 * scatterlist without the exporter's orig_nents fix-up). At least
 * MIN_CYCLES, then more while under CYCLE_SECONDS: under TCG a cycle takes
 * 3 ms behind a switch but 15-25 ms through the host bridge.
 */
#define MIN_CYCLES	1024
#define MAX_CYCLES	4096
#define CYCLE_SECONDS	10

TEST_F_TIMEOUT(exporter, map_cycles_kmemleak, 240)
{
	static const char * const funcs[] = {
		"dma_buf_phys_vec_to_sgt", "sg_alloc_table", "p2pbuf_exp", NULL,
	};
	struct p2pbuf_exp_range r[] = {
		{ 0, 2 * PAGE }, { 8 * PAGE, PAGE }, { 4 * PAGE, 3 * PAGE },
	};
	struct p2pbuf_exp_attach_state st;
	struct timespec t0, t1;
	struct p2pbuf_imp_map m;
	struct p2pbuf_exp_query q;
	int buf, h, i, leaks, total = 0;

	if (!have_route(_metadata, self))
		return;
	if (p2pbuf_debugfs_mount() ||
	    access("/sys/kernel/debug/kmemleak", W_OK))
		p2pbuf_feature_missing(return, "kmemleak not available");

	buf = exp_export(self->fd, self->bar, r, 3, O_RDWR, NULL);
	ASSERT_LE(0, buf);
	h = imp_import(self->imp, buf, 0);
	ASSERT_LE(0, h) TH_LOG("IMPORT: %s", strerror(errno));

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < MAX_CYCLES; i++) {
		ASSERT_EQ(0, imp_map(self->imp, h, &m))
			TH_LOG("cycle %d MAP: %s", i, strerror(errno));
		ASSERT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_UNMAP, h))
			TH_LOG("cycle %d UNMAP: %s", i, strerror(errno));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (i + 1 >= MIN_CYCLES && t1.tv_sec - t0.tv_sec >= CYCLE_SECONDS)
			break;
	}
	TH_LOG("%d map/unmap cycles in %.1f s", i < MAX_CYCLES ? i + 1 : i,
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	EXPECT_EQ(self->expect, m.map_type);
	EXPECT_EQ(self->expect == P2PBUF_MAP_HOST_BRIDGE_IOVA ? 1U : 3U,
		  m.nr_segs);
	EXPECT_EQ(6 * PAGE, m.length);
	ASSERT_EQ(0, exp_query(self->fd, buf, &st, 1, &q));
	EXPECT_EQ(0U, st.nr_mappings);
	ASSERT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h));
	close(buf);

	/*
	 * kmemleak reports an object only when it is older than 5 s and
	 * unchanged since the previous scan: scan, let 6 s pass since the last
	 * cycle, scan again.
	 */
	ASSERT_EQ(0, p2pbuf_kmemleak_scan());
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (t0.tv_sec - t1.tv_sec < 6)
		sleep(6 - (t0.tv_sec - t1.tv_sec));
	ASSERT_EQ(0, p2pbuf_kmemleak_scan());
	clock_gettime(CLOCK_MONOTONIC, &t0);
	leaks = p2pbuf_kmemleak_count(funcs, &total);
	ASSERT_LE(0, leaks);
	TH_LOG("kmemleak: %d suspected leaks from the map path, %d in all",
	       leaks, total);
	TH_LOG("scans done %ld s after the last cycle",
	       (long)(t0.tv_sec - t1.tv_sec));
	EXPECT_EQ(0, leaks);
}
