// SPDX-License-Identifier: GPL-2.0
/*
 * lifecycle_test, included by lifecycle_test.c: what the exporter claims and
 * refuses, its argsz rules (vfio's minsz pattern, capped at a page), what
 * it caches when the map contradicts the attach-time route, a debugfs
 * reader that must not stall the device, and the bound of its test-only
 * attach delay.
 */

#include <sys/wait.h>

/* QUERY as a binary built before revoke_reasons existed passes it. */
struct query_v1 {
	__u32 argsz;
	__u32 flags;
	__s32 fd;
	__u32 state;
	__aligned_u64 size;
	__u32 bar;
	__u32 nr_ranges;
	__u32 revokes;
	__u32 nr_attachments;
	__aligned_u64 attachments;
	__aligned_u64 reserved;
};

TEST_F(lc, abi_old_binary)
{
	struct { struct query_v1 q; __u32 canary[4]; } old;

	memset(&old, 0xa5, sizeof(old));
	memset(&old.q, 0, sizeof(old.q));
	old.q.argsz = sizeof(old.q);
	old.q.fd = self->buf;
	ASSERT_EQ(0, ioctl(self->exp, P2PBUF_EXP_QUERY, &old.q))
		TH_LOG("a v1 QUERY (%zu bytes): %s", sizeof(old.q), strerror(errno));
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_LIVE, old.q.state);
	EXPECT_EQ(2U, old.q.nr_ranges);
	/* Nothing written past what the old binary passed. */
	EXPECT_EQ(0xa5a5a5a5U, old.canary[0]);
	old.q.argsz = sizeof(old.q) - 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->exp, P2PBUF_EXP_QUERY, &old.q));
}

TEST_F(lc, abi_new_binary)
{
	struct { struct p2pbuf_exp_query q; __u64 tail[2]; } next;
	static unsigned char page[8192];
	struct p2pbuf_exp_query *big = (void *)page;

	memset(&next, 0, sizeof(next));
	next.q.argsz = sizeof(next);
	next.q.fd = self->buf;
	EXPECT_EQ(0, ioctl(self->exp, P2PBUF_EXP_QUERY, &next))
		TH_LOG("a later QUERY with a zero tail: %s", strerror(errno));
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_LIVE, next.q.state);
	next.tail[1] = 1;
	EXPECT_ERRNO(E2BIG, ioctl(self->exp, P2PBUF_EXP_QUERY, &next));
	next.tail[1] = 0;
	next.q.reserved2 = 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->exp, P2PBUF_EXP_QUERY, &next));

	/* A zero tail up to a page is fine, beyond a page it is not. */
	memset(page, 0, sizeof(page));
	big->fd = self->buf;
	big->argsz = 4096;
	EXPECT_EQ(0, ioctl(self->exp, P2PBUF_EXP_QUERY, big));
	big->argsz = 4097;
	EXPECT_ERRNO(E2BIG, ioctl(self->exp, P2PBUF_EXP_QUERY, big));
	big->argsz = 0xffffffff;
	EXPECT_ERRNO(E2BIG, ioctl(self->exp, P2PBUF_EXP_QUERY, big));
}

/* BAR 0 of ivshmem is its registers: not prefetchable, not exported. */
TEST_F(lc, nonprefetchable_refused)
{
	const char *param = "/sys/module/p2pbuf_exporter/parameters/allow_nonprefetchable";
	struct p2pbuf_exp_info info = { .argsz = sizeof(info) };
	struct p2pbuf_exp_range r = { .offset = 0, .length = 4096 };
	struct p2pbuf_exp_export e = {
		.argsz = sizeof(e), .bar = 0, .open_flags = O_RDWR,
		.nr_ranges = 1, .ranges = (uintptr_t)&r,
	};

	ASSERT_EQ(0, ioctl(self->exp, P2PBUF_EXP_INFO, &info));
	ASSERT_EQ(0U, info.bars[0].flags & P2PBUF_EXP_BAR_PREFETCH)
		TH_LOG("BAR 0 of %s is prefetchable", self->pbdf);
	ASSERT_NE(0U, info.bars[0].flags & P2PBUF_EXP_BAR_MEM);
	EXPECT_EQ(0U, info.bars[0].flags & P2PBUF_EXP_BAR_PROVIDER);
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->exp, P2PBUF_EXP_EXPORT, &e));

	/* Allowed: past that check, to the size check of the 256-byte BAR. */
	ASSERT_EQ(0, p2pbuf_sysfs_write(param, "1"));
	ASSERT_EQ(0, ioctl(self->exp, P2PBUF_EXP_INFO, &info));
	EXPECT_NE(0U, info.bars[0].flags & P2PBUF_EXP_BAR_PROVIDER);
	EXPECT_ERRNO(EINVAL, ioctl(self->exp, P2PBUF_EXP_EXPORT, &e));
	ASSERT_EQ(0, p2pbuf_sysfs_write(param, "0"));
}

/* The exported BAR is claimed: /proc/iomem names the driver under it. */
TEST_F(lc, bar_claimed)
{
	char line[256], want[sizeof(self->pbdf) + 2];
	bool in_dev = false, found = false;
	FILE *f = fopen("/proc/iomem", "re");

	ASSERT_NE(NULL, f);
	snprintf(want, sizeof(want), ": %s", self->pbdf);
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, want))
			in_dev = true;
		else if (in_dev && strstr(line, "p2pbuf_exporter"))
			found = true;
		else if (in_dev && !strchr(" ", line[0]))
			in_dev = false;
	}
	fclose(f);
	EXPECT_TRUE(found) TH_LOG("no p2pbuf_exporter region under %s in /proc/iomem",
				  self->pbdf);
}

/* The exporter's debugfs counter of maps that contradicted their route. */
static int route_mismatches(const char *bdf)
{
	char path[PATH_MAX], line[512];
	int n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/p2pbuf_exporter/%s/state", bdf);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "route-mismatches ");

		if (p)
			n = atoi(p + strlen("route-mismatches "));
	}
	fclose(f);
	return n;
}

/*
 * An attach-time route that the map contradicts (as a change of ACS
 * between the two would): the exporter counts it, maps what p2pdma really
 * chose, and caches no table. Only an IOMMU makes the contradiction
 * visible (elsewhere bus and CPU addresses are the same on x86).
 */
TEST_F(lc, route_mismatch)
{
	const char *param = "/sys/module/p2pbuf_exporter/parameters/test_force_bus_route";
	struct p2pbuf_exp_attach_state att[2];
	struct p2pbuf_exp_query q;
	struct p2pbuf_imp_map m;
	int buf, before, after, ret;
	__u32 h = 0;

	if (self->expect != P2PBUF_MAP_HOST_BRIDGE_IOVA)
		SKIP(return, "needs an IOVA route (rp-zen-iommu): elsewhere the addresses agree");
	before = route_mismatches(self->pbdf);
	ASSERT_LE(0, before) TH_LOG("debugfs: %s", strerror(-before));
	ASSERT_EQ(0, p2pbuf_sysfs_write(param, "1"));
	buf = lc_export(self->exp);
	ret = buf < 0 ? buf : imp_import(self->imp, buf, 0, &h, NULL);
	/* The knob is put back before any assertion can end the test. */
	ASSERT_EQ(0, p2pbuf_sysfs_write(param, "0"));
	ASSERT_LE(0, buf);
	ASSERT_EQ(0, ret);
	/* Two ranges through an IOVA: only sgt.c's own path (own_map) maps them. */
	ASSERT_EQ(0, imp_map(self->imp, h, &m, NULL, 0));
	EXPECT_MAP_TYPE(P2PBUF_MAP_HOST_BRIDGE_IOVA, m.map_type);
	after = route_mismatches(self->pbdf);
	EXPECT_LT(before, after) TH_LOG("the disagreement was not counted");
	ASSERT_EQ(0, lc_query(self->exp, buf, &q, att, 2));
	EXPECT_EQ((__u32)P2PBUF_MAP_HOST_BRIDGE_IOVA, att[0].map_type);
	if (self->engine) {
		unsigned char out[DATA_LEN];

		ASSERT_EQ(0, imp_dma(self->imp, h, P2PBUF_IMP_DMA_FROM_BUF, DATA_OFF,
				     out, DATA_LEN));
		EXPECT_EQ(0, memcmp(self->data, out, DATA_LEN));
	}
	/* A revoke leaves nothing mapped: the table was not cached. */
	EXPECT_EQ(1, lc_revoke(self->exp, P2PBUF_EXP_REVOKE, buf));
	ASSERT_EQ(0, lc_query(self->exp, buf, &q, att, 2));
	EXPECT_EQ(0U, att[0].nr_mappings);
	EXPECT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h));
	close(buf);
}

/*
 * The same contradiction with a buffer of one range, which the core's path maps:
 * the table is an IOVA mapping, and caching it as a bus address table (as
 * the attach-time route promised) would keep it mapped after the importer
 * unmapped it. No attachment of an IOVA route caches a table.
 */
TEST_F(lc, route_mismatch_one_range)
{
	const char *param = "/sys/module/p2pbuf_exporter/parameters/test_force_bus_route";
	struct p2pbuf_exp_range r = { .offset = R0_OFF, .length = R_LEN };
	struct p2pbuf_exp_export e = {
		.argsz = sizeof(e), .bar = BAR, .open_flags = O_RDWR | O_CLOEXEC,
		.nr_ranges = 1, .ranges = (uintptr_t)&r,
	};
	struct p2pbuf_imp_map m;
	int buf = -1, ret;
	__u32 h = 0;

	if (self->expect != P2PBUF_MAP_HOST_BRIDGE_IOVA)
		SKIP(return, "needs an IOVA route (rp-zen-iommu): elsewhere the addresses agree");
	ASSERT_EQ(0, p2pbuf_sysfs_write(param, "1"));
	ret = ioctl(self->exp, P2PBUF_EXP_EXPORT, &e) ? -errno : 0;
	if (!ret) {
		buf = e.fd;
		ret = imp_import(self->imp, buf, 0, &h, NULL);
	}
	/* The knob is put back before any assertion can end the test. */
	ASSERT_EQ(0, p2pbuf_sysfs_write(param, "0"));
	ASSERT_EQ(0, ret) TH_LOG("EXPORT or IMPORT: %s", strerror(-ret));
	ASSERT_EQ(0, imp_map(self->imp, h, &m, NULL, 0));
	EXPECT_MAP_TYPE(P2PBUF_MAP_HOST_BRIDGE_IOVA, m.map_type);
	EXPECT_EQ(0, p2pbuf_exp_state_lines(self->pbdf, NULL, "cached-table yes"))
		TH_LOG("an IOVA mapping was cached as a bus address table");
	EXPECT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h));
	close(buf);
}

/*
 * Only a table of bus addresses is kept from the first mapping to the
 * revoke (exporter/sgt.c): the importer's unmap and map again hand it out
 * again, DMA still reaches the right bytes through it, and a revoke leaves
 * no table, whether the importer had unmapped before it or unmaps from its
 * invalidate callback (revoke_slow_test has an importer that unmaps later).
 * A table with a DMA mapping (dma-direct or an IOVA through the host
 * bridge) is the importer's until its unmap and is never kept.
 */
TEST_F(lc, table_cached_bus_only)
{
	bool kept = self->expect == P2PBUF_MAP_BUS_ADDR;
	struct p2pbuf_exp_attach_state att[2];
	unsigned char out[DATA_LEN];
	struct p2pbuf_exp_query q;
	struct p2pbuf_imp_map m;

	if (!self->can_map)
		SKIP(return, "no route in this topology: nothing is mapped");
	EXPECT_EQ(kept ? 1 : 0, p2pbuf_exp_state_lines(self->pbdf, NULL, "cached-table yes"))
		TH_LOG("%s: a table %s", imp_map_type_name(self->expect),
		       kept ? "of bus addresses was not kept" :
		       "with a DMA mapping was kept");
	ASSERT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_UNMAP, self->h));
	ASSERT_EQ(0, lc_query(self->exp, self->buf, &q, att, 2));
	EXPECT_EQ(0U, att[0].nr_mappings);
	EXPECT_EQ(kept ? 1 : 0, p2pbuf_exp_state_lines(self->pbdf, NULL, "cached-table yes"))
		TH_LOG("the importer's unmap %s", kept ? "freed the kept table" :
		       "left its DMA mapping behind");
	ASSERT_EQ(0, imp_map(self->imp, self->h, &m, NULL, 0));
	EXPECT_MAP_TYPE(self->expect, m.map_type);
	if (self->engine) {
		memset(out, 0, sizeof(out));
		ASSERT_EQ(0, imp_dma(self->imp, self->h, P2PBUF_IMP_DMA_FROM_BUF,
				     DATA_OFF, out, DATA_LEN));
		EXPECT_EQ(0, memcmp(self->data, out, DATA_LEN))
			TH_LOG("the table handed out again reaches other bytes");
	}
	ASSERT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_UNMAP, self->h));
	EXPECT_EQ(1, lc_revoke(self->exp, P2PBUF_EXP_REVOKE, self->buf));
	EXPECT_EQ(0, p2pbuf_exp_state_lines(self->pbdf, NULL, "cached-table yes"))
		TH_LOG("a revoke left an unmapped attachment's table of the BAR");
	EXPECT_EQ(1, lc_revoke(self->exp, P2PBUF_EXP_RESTORE, self->buf));
	imp_drain_events(self->imp);
	ASSERT_EQ(0, imp_map(self->imp, self->h, &m, NULL, 0));
	EXPECT_MAP_TYPE(self->expect, m.map_type);
	EXPECT_EQ(kept ? 1 : 0, p2pbuf_exp_state_lines(self->pbdf, NULL, "cached-table yes"));
	EXPECT_EQ(1, lc_revoke(self->exp, P2PBUF_EXP_REVOKE, self->buf));
	ASSERT_EQ(0, lc_query(self->exp, self->buf, &q, att, 2));
	EXPECT_EQ(0U, att[0].nr_mappings);
	EXPECT_EQ(0, p2pbuf_exp_state_lines(self->pbdf, NULL, "cached-table yes"))
		TH_LOG("a revoked buffer kept a table of the BAR");
	EXPECT_EQ(1, lc_revoke(self->exp, P2PBUF_EXP_RESTORE, self->buf));
	imp_drain_events(self->imp);
	ASSERT_EQ(0, imp_map(self->imp, self->h, &m, NULL, 0));
	EXPECT_MAP_TYPE(self->expect, m.map_type);
	EXPECT_EQ(kept ? 1 : 0, p2pbuf_exp_state_lines(self->pbdf, NULL, "cached-table yes"));
	if (self->engine) {
		memset(out, 0, sizeof(out));
		ASSERT_EQ(0, imp_dma(self->imp, self->h, P2PBUF_IMP_DMA_FROM_BUF,
				     DATA_OFF, out, DATA_LEN));
		EXPECT_EQ(0, memcmp(self->data, out, DATA_LEN));
	}
}

/* The exporter caps the delay at 2000 ms (test_attach_delay_ms). */
#define STALL_ATTACH_MS		2000
#define STALL_POLL_MS		1500
/* What must be left of the delay when EXPORT starts, to tell a wait. */
#define STALL_MIN_LEFT_MS	600

/*
 * Waits up to STALL_POLL_MS for @pid to sleep (state D or S in
 * /proc/<pid>/stat) in p2pbuf_exporter's code (a p2pbuf_exp_ frame in
 * /proc/<pid>/stack: the attach's msleep(), the debugfs reader's resv lock),
 * so that neither a slow fork on a loaded host nor a sleep elsewhere is
 * taken for the wait the test needs.
 */
static bool stall_wait_blocked(pid_t pid)
{
	char path[64], text[4096], *p;
	long long t0 = imp_now_ms();
	ssize_t n;
	int fd;

	do {
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return false;
		n = read(fd, text, sizeof(text) - 1);
		close(fd);
		if (n <= 0)
			return false;
		text[n] = '\0';
		p = strrchr(text, ')');
		if (p && p[1] == ' ' && (p[2] == 'D' || p[2] == 'S')) {
			snprintf(path, sizeof(path), "/proc/%d/stack", pid);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			n = fd < 0 ? -1 : read(fd, text, sizeof(text) - 1);
			if (fd >= 0)
				close(fd);
			if (n > 0) {
				text[n] = '\0';
				if (strstr(text, "p2pbuf_exp_"))
					return true;
			}
		}
		usleep(10 * 1000);
	} while (imp_now_ms() - t0 < STALL_POLL_MS);
	return false;
}

/* Ends a child of debugfs_no_stall that may still wait. */
static void stall_reap(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

/*
 * The debugfs state waits for each buffer's resv lock, but not under the
 * device lock: an EXPORT, which takes the device lock, does not wait behind
 * a reader that waits for an attach holding a buffer's resv lock (held
 * here by the test-only attach delay, in every topology: the delay comes
 * before the route lookup). With the reader holding the device lock, the
 * EXPORT would wait for the rest of the delay: it must take less than half
 * of what was left when it started.
 */
TEST_F_TIMEOUT(lc, debugfs_no_stall, 60)
{
	const char *param = "/sys/module/p2pbuf_exporter/parameters/test_attach_delay_ms";
	char path[PATH_MAX], chunk[4096], delay[16];
	pid_t importer = -1, reader = -1;
	long long attach_t0, left, t0, ms;
	bool importer_blocked, reader_blocked;
	int buf, second, fd;
	__u32 h;

	snprintf(path, sizeof(path), "/sys/kernel/debug/p2pbuf_exporter/%s/state",
		 self->pbdf);
	if (access(path, R_OK))
		SKIP(return, "%s: %s", path, strerror(errno));
	buf = lc_export(self->exp);
	ASSERT_LE(0, buf) TH_LOG("EXPORT: %s", strerror(-buf));
	snprintf(delay, sizeof(delay), "%d", STALL_ATTACH_MS);
	ASSERT_EQ(0, p2pbuf_sysfs_write(param, delay));
	attach_t0 = imp_now_ms();
	importer = fork();
	if (!importer)
		_exit(imp_import(self->imp, buf, 0, &h, NULL) ? 1 : 0);
	/* .attach now sleeps with the resv lock; a later attach would not. */
	importer_blocked = importer > 0 && stall_wait_blocked(importer);
	/* The knob is put back before any assertion can end the test. */
	EXPECT_EQ(0, p2pbuf_sysfs_write(param, "0"));
	reader_blocked = false;
	if (importer_blocked) {
		reader = fork();
		if (!reader) {
			fd = open(path, O_RDONLY | O_CLOEXEC);
			while (fd >= 0 && read(fd, chunk, sizeof(chunk)) > 0)
				;
			_exit(fd < 0);
		}
		/* The reader waits for the resv lock the attach holds. */
		reader_blocked = reader > 0 && stall_wait_blocked(reader);
	}
	t0 = imp_now_ms();
	left = STALL_ATTACH_MS - (t0 - attach_t0);
	second = reader_blocked ? lc_export(self->exp) : -EAGAIN;
	ms = imp_now_ms() - t0;
	if (!reader_blocked)
		stall_reap(reader);
	if (importer > 0)
		waitpid(importer, NULL, 0);
	if (reader_blocked)
		waitpid(reader, NULL, 0);
	if (second >= 0)
		close(second);
	close(buf);
	ASSERT_LT(0, importer);
	ASSERT_TRUE(importer_blocked) TH_LOG("the attach did not sleep in the delay");
	ASSERT_TRUE(reader_blocked) TH_LOG("the reader did not wait for the attach");
	ASSERT_LE(STALL_MIN_LEFT_MS, left)
		TH_LOG("only %lld ms of the delay left: the host is too slow to tell", left);
	EXPECT_LE(0, second) TH_LOG("EXPORT: %s", strerror(-second));
	EXPECT_GT(left / 2, ms)
		TH_LOG("EXPORT waited %lld ms behind a debugfs reader (%lld ms of the delay left)",
		       ms, left);
}

/* A module parameter's value, or -errno. */
static long param_read(const char *path)
{
	char val[32] = "";
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, val, sizeof(val) - 1);
	close(fd);
	return n > 0 ? strtol(val, NULL, 10) : -EIO;
}

/*
 * The test-only attach delay sleeps under the buffer's resv lock: it is
 * bounded at 2000 ms, and a larger value is refused and changes nothing.
 */
TEST_F(lc, test_knob_bounded)
{
	const char *param = "/sys/module/p2pbuf_exporter/parameters/test_attach_delay_ms";
	long before = param_read(param);

	ASSERT_LE(0, before) TH_LOG("%s: %s", param, strerror(-before));
	EXPECT_EQ(-EINVAL, p2pbuf_sysfs_write(param, "2001"));
	EXPECT_EQ(before, param_read(param));
	EXPECT_EQ(-EINVAL, p2pbuf_sysfs_write(param, "4294967295"));
	EXPECT_EQ(0, p2pbuf_sysfs_write(param, "2000"));
	EXPECT_EQ(2000, param_read(param));
	ASSERT_EQ(0, p2pbuf_sysfs_write(param, "0"));
}
