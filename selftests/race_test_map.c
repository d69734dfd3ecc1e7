// SPDX-License-Identifier: GPL-2.0
/*
 * race_test, included by race_test.c: map, import and close racing revoke,
 * restore and the close of the exporter's file, and module removal while
 * buffers live.
 */

/*
 * map_unmap_vs_revoke_restore: workers 0 and 1 each map, check and unmap
 * their own import (one dynamic, one pinned, each in its own importer
 * file) while worker 2 revokes, queries and restores the buffer. Now and
 * then worker 0 reads 64 bytes across the two ranges by DMA: a read that
 * succeeds must return what the CPU wrote into the BAR before the race.
 * As often it writes 64 new bytes into the second range by DMA: a write
 * that succeeds must be in the BAR, as the CPU reads it, once it returns.
 */

/* BAR offset of byte @off of a buffer of race_ranges. */
static __u64 race_bar_off(__u64 off)
{
	return off < R_LEN ? race_ranges[0].offset + off :
	       race_ranges[1].offset + off - R_LEN;
}

#define RACE_DMA_OFF	(R_LEN - 32)
#define RACE_DMA_WOFF	(R_LEN + 4096)

/* Map BAR 2 and write the bytes the racing DMA reads; 0 or -errno. */
static int race_bar_setup(struct race_ctx *c)
{
	char path[256];
	size_t i;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource%d",
		 c->pbdf, BAR);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	c->bar = mmap(NULL, BAR_MAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		      0);
	close(fd);
	if (c->bar == MAP_FAILED)
		return -errno;
	for (i = 0; i < sizeof(c->dma_data); i++) {
		c->dma_data[i] = (unsigned char)(0x3d + 11 * i);
		c->bar[race_bar_off(RACE_DMA_OFF + i)] = c->dma_data[i];
		c->bar[race_bar_off(RACE_DMA_WOFF + i)] = 0;
	}
	return 0;
}

/* A DMA write racing the revoke: when it succeeds, the BAR holds it. */
static void race_dma_write(struct race_ctx *c, __u32 handle, unsigned int i)
{
	unsigned char seen[sizeof(c->dma_wdata)];
	struct p2pbuf_imp_dma d = {
		.argsz = sizeof(d), .flags = P2PBUF_IMP_DMA_TO_BUF,
		.handle = handle, .offset = RACE_DMA_WOFF,
		.length = sizeof(c->dma_wdata), .data = (uintptr_t)c->dma_wdata,
	};
	size_t k;

	for (k = 0; k < sizeof(c->dma_wdata); k++)
		c->dma_wdata[k] = (unsigned char)(i + 7 * k + 1);
	if (race_check(c->log, "DMA write", race_err(ioctl(c->imp[0], P2PBUF_IMP_DMA, &d)),
		       RACE_OK(0, ENXIO)))
		return;
	for (k = 0; k < sizeof(seen); k++)
		seen[k] = c->bar[race_bar_off(RACE_DMA_WOFF + k)];
	if (memcmp(seen, c->dma_wdata, sizeof(seen)))
		race_fail(c->log, "DMA write returned 0, but the BAR does not hold the data");
}

static void mapper_work(struct race_ctx *c, unsigned int w, unsigned int i)
{
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_map m;
	unsigned char data[64];
	int err;

	err = race_check(c->log, "MAP", race_err(imp_map(c->imp[w], c->handle[w], &m)),
			 RACE_OK(0, ENODEV));
	check_status(c, c->imp[w], c->handle[w], w == 1, &st);
	/* The edu engine is slow under TCG: a transfer now and then. */
	if (!err && w == 0 && i % 64 == 0) {
		struct p2pbuf_imp_dma d = {
			.argsz = sizeof(d), .flags = P2PBUF_IMP_DMA_FROM_BUF,
			.handle = c->handle[w], .offset = RACE_DMA_OFF,
			.length = sizeof(data), .data = (uintptr_t)data,
		};

		memset(data, 0, sizeof(data));
		if (!race_check(c->log, "DMA",
				race_err(ioctl(c->imp[w], P2PBUF_IMP_DMA, &d)),
				RACE_OK(0, ENXIO)) &&
		    memcmp(data, c->dma_data, sizeof(data)))
			race_fail(c->log, "DMA read returned other data than the BAR holds");
	}
	if (!err && w == 0 && i % 64 == 32)
		race_dma_write(c, c->handle[w], i);
	/* Unmapped by an invalidation since: -ENXIO; never mapped: only that. */
	race_check(c->log, "UNMAP",
		   race_err(imp_handle_op(c->imp[w], P2PBUF_IMP_UNMAP, c->handle[w])),
		   err ? RACE_OK(ENXIO) : RACE_OK(0, ENXIO));
}

static void revoker_work(struct race_ctx *c, unsigned int i)
{
	struct p2pbuf_exp_attach_state att[4];
	struct p2pbuf_exp_query q;
	__u32 all = i % 2 ? P2PBUF_EXP_REVOKE_ALL : 0;
	int n, k;

	/* Only this worker revokes: each call changes the buffer's state. */
	n = exp_revoke(c->exp, P2PBUF_EXP_REVOKE, all, all ? -1 : c->buf);
	if (n != 1)
		race_fail(c->log, "REVOKE: %d (%s), want count 1", n, strerror(errno));
	/* REVOKE returned: nothing maps the buffer and nothing can. */
	memset(att, 0, sizeof(att));
	if (race_check(c->log, "QUERY",
		       race_err(exp_query(c->exp, c->buf, att, 4, &q)), RACE_OK(0)))
		return;
	if (q.state != P2PBUF_EXP_BUF_REVOKED || q.nr_attachments != 2)
		race_fail(c->log, "QUERY after REVOKE: state %u, %u attachments",
			  q.state, q.nr_attachments);
	for (k = 0; k < 2; k++)
		if (att[k].nr_mappings)
			race_fail(c->log, "QUERY after REVOKE: %s holds %u mapping(s)",
				  att[k].importer, att[k].nr_mappings);
	n = exp_revoke(c->exp, P2PBUF_EXP_RESTORE, all, all ? -1 : c->buf);
	if (n != 1)
		race_fail(c->log, "RESTORE: %d (%s), want count 1", n, strerror(errno));
}

static void map_revoke_work(void *ctx, unsigned int w, unsigned int phase,
			    unsigned int i)
{
	if (w < 2)
		mapper_work(ctx, w, i);
	else
		revoker_work(ctx, i);
}

TEST_F_TIMEOUT(race, map_unmap_vs_revoke_restore, 900)
{
	struct race_ctx *c = &self->c;
	struct p2pbuf_imp_status st;
	unsigned int w;

	if (!c->can_map)
		SKIP(return, NO_ROUTE);
	ASSERT_EQ(0, race_bar_setup(c)) TH_LOG("BAR %d of %s: %s", BAR, c->pbdf,
					       strerror(errno));
	c->buf = new_buf(c->exp);
	ASSERT_LE(0, c->buf);
	c->imp[1] = open_node(c->imp_node);
	ASSERT_LE(0, c->imp[1]);
	for (w = 0; w < 2; w++) {
		int h = imp_import(c->imp[w], c->buf, w ? P2PBUF_IMP_IMPORT_PINNED : 0);

		ASSERT_LT(0, h) TH_LOG("IMPORT: %s", strerror(errno));
		c->handle[w] = h;
	}

	self->run->iters = self->iters;
	self->run->phases = 1;
	self->run->nr = 3;
	self->run->work = map_revoke_work;
	race_run_go(self->run);
	race_report(_metadata, self, "map/unmap vs revoke/restore");

	/*
	 * Every revoke invalidated both imports once, and every restore once
	 * more ("map again"), and said so.
	 */
	for (w = 0; w < 2; w++) {
		__u64 last = 0;
		int n, foreign;

		ASSERT_EQ(0, imp_status(c->imp[w], c->handle[w], &st));
		EXPECT_EQ(2 * self->run->done, st.invalidations);
		n = drain_events(c->imp[w], c->handle[w], &last, &foreign);
		EXPECT_EQ((int)(2 * self->run->done < 64 ? 2 * self->run->done : 64), n);
		EXPECT_EQ(2 * self->run->done, last);
		EXPECT_EQ(0, foreign);
		EXPECT_EQ(0, imp_map(c->imp[w], c->handle[w], &(struct p2pbuf_imp_map){}));
	}
}

/*
 * map_vs_exporter_close: a fresh exporter file and buffer per iteration,
 * imported; worker 0 maps and unmaps while worker 1 closes the exporter
 * file. Afterwards the import is unmapped, invalidated exactly once and
 * cannot map again.
 */
static void close_race_main(void *ctx, unsigned int phase, unsigned int i)
{
	struct race_ctx *c = ctx;
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_map m;
	__u64 last;
	int h, n, foreign;

	if (phase == 0) {
		c->exp = open_node(c->exp_node);
		c->buf = c->exp < 0 ? -1 : new_buf(c->exp);
		if (c->buf < 0) {
			race_fail(c->log, "setup: open/EXPORT: %s", strerror(errno));
			return;
		}
		c->ok[0] = 0;
		if (!c->can_map)
			return;
		h = imp_import(c->imp[0], c->buf, 0);
		if (h <= 0)
			race_fail(c->log, "setup: IMPORT: %s", strerror(errno));
		c->handle[0] = h;
		c->ok[0] = h > 0;
		return;
	}
	if (phase != 2)
		return;
	if (c->ok[0]) {
		/*
		 * Attached before the close: invalidated exactly once. An
		 * import that attached while the close was revoking may have
		 * missed the invalidation; it is refused all the same.
		 */
		if (check_status(c, c->imp[0], c->handle[0], true, &st) >= 0 &&
		    ((st.state & P2PBUF_IMP_STATE_MAPPED) ||
		     !(st.state & P2PBUF_IMP_STATE_INVALIDATED) != !st.invalidations ||
		     st.invalidations > 1 ||
		     (c->attached_first && st.invalidations != 1)))
			race_fail(c->log, "after close: state %#x, %llu invalidations",
				  st.state, (unsigned long long)st.invalidations);
		race_check(c->log, "MAP after close",
			   race_err(imp_map(c->imp[0], c->handle[0], &m)), RACE_OK(ENODEV));
		n = drain_events(c->imp[0], c->handle[0], &last, &foreign);
		if (n != (int)st.invalidations || foreign)
			race_fail(c->log, "after close: %d events for %llu invalidations",
				  n, (unsigned long long)st.invalidations);
		race_check(c->log, "RELEASE",
			   race_err(imp_handle_op(c->imp[0], P2PBUF_IMP_RELEASE, c->handle[0])),
			   RACE_OK(0));
	}
	close(c->buf);
	c->buf = -1;
	c->exp = -1;	/* closed by worker 1 */
}

static void map_close_work(void *ctx, unsigned int w, unsigned int phase,
			   unsigned int i)
{
	struct race_ctx *c = ctx;
	struct p2pbuf_imp_map m;
	int k, err;

	if (phase != 1)
		return;
	if (w == 1) {
		race_check(c->log, "close(exporter)", race_err(close(c->exp)), RACE_OK(0));
		return;
	}
	for (k = 0; k < 3 && c->ok[0]; k++) {
		err = race_check(c->log, "MAP", race_err(imp_map(c->imp[0], c->handle[0], &m)),
				 RACE_OK(0, ENODEV));
		race_check(c->log, "UNMAP",
			   race_err(imp_handle_op(c->imp[0], P2PBUF_IMP_UNMAP, c->handle[0])),
			   err ? RACE_OK(ENXIO) : RACE_OK(0, ENXIO));
	}
}

TEST_F_TIMEOUT(race, map_vs_exporter_close, 900)
{
	struct race_ctx *c = &self->c;

	if (!c->can_map)
		SKIP(return, NO_ROUTE);
	close(c->exp);
	c->exp = -1;
	c->attached_first = 1;
	self->run->iters = self->iters;
	self->run->phases = 3;
	self->run->nr = 2;
	self->run->main = close_race_main;
	self->run->work = map_close_work;
	race_run_go(self->run);
	race_report(_metadata, self, "map vs exporter close");
}

/*
 * import_vs_exporter_close: worker 0 imports (and maps) a buffer while
 * worker 1 closes the exporter file that exported it. The import either
 * fails with -ENODEV, or succeeds and is revoked: at most one invalidation
 * and -ENODEV on MAP. Where p2pdma cannot route, -EXDEV is documented too.
 */
static void import_close_work(void *ctx, unsigned int w, unsigned int phase,
			      unsigned int i)
{
	struct race_ctx *c = ctx;
	struct p2pbuf_imp_map m;
	int h;

	if (phase != 1)
		return;
	if (w == 1) {
		race_check(c->log, "close(exporter)", race_err(close(c->exp)), RACE_OK(0));
		return;
	}
	h = imp_import(c->imp[0], c->buf, i % 2 ? P2PBUF_IMP_IMPORT_PINNED : 0);
	race_check(c->log, "IMPORT", race_err(h),
		   c->can_map ? RACE_OK(0, ENODEV) : RACE_OK(EXDEV, ENODEV));
	c->ok[0] = h > 0;
	c->handle[0] = c->ok[0] ? h : 0;
	if (c->ok[0])
		race_check(c->log, "MAP", race_err(imp_map(c->imp[0], h, &m)),
			   RACE_OK(0, ENODEV));
}

static void import_close_main(void *ctx, unsigned int phase, unsigned int i)
{
	struct race_ctx *c = ctx;
	int can_map = c->can_map;

	if (phase == 0) {
		c->exp = open_node(c->exp_node);
		c->buf = c->exp < 0 ? -1 : new_buf(c->exp);
		if (c->buf < 0)
			race_fail(c->log, "setup: open/EXPORT: %s", strerror(errno));
		c->ok[0] = 0;
		return;
	}
	/* The phase 2 checks of map_vs_exporter_close, for what was imported. */
	c->can_map = 1;
	close_race_main(ctx, phase, i);
	c->can_map = can_map;
}

TEST_F_TIMEOUT(race, import_vs_exporter_close, 900)
{
	close(self->c.exp);
	self->c.exp = -1;
	self->run->iters = self->iters;
	self->run->phases = 3;
	self->run->nr = 2;
	self->run->main = import_close_main;
	self->run->work = import_close_work;
	race_run_go(self->run);
	race_report(_metadata, self, "import vs exporter close");
}

/*
 * importer_close_vs_revoke: worker 0 imports and maps in a new importer
 * file and closes it while worker 1 revokes and restores the buffer.
 * Afterwards the buffer has no attachment left.
 */
static void imp_close_work(void *ctx, unsigned int w, unsigned int phase,
			   unsigned int i)
{
	struct race_ctx *c = ctx;
	struct p2pbuf_exp_query q;
	struct p2pbuf_imp_map m;
	int h, n;

	if (w == 0 && phase == 0) {
		c->imp[1] = open_node(c->imp_node);
		h = c->imp[1] < 0 ? -1 : imp_import(c->imp[1], c->buf, i % 2);
		if (h <= 0 || imp_map(c->imp[1], h, &m))
			race_fail(c->log, "setup: open/IMPORT/MAP: %s", strerror(errno));
	} else if (w == 0 && phase == 1) {
		race_check(c->log, "close(importer)", race_err(close(c->imp[1])), RACE_OK(0));
		c->imp[1] = -1;
	} else if (w == 1 && phase == 1) {
		n = exp_revoke(c->exp, P2PBUF_EXP_REVOKE, 0, c->buf);
		if (n != 1)
			race_fail(c->log, "REVOKE: %d (%s), want count 1", n, strerror(errno));
		race_check(c->log, "QUERY", race_err(exp_query(c->exp, c->buf, NULL, 0, &q)),
			   RACE_OK(0));
		n = exp_revoke(c->exp, P2PBUF_EXP_RESTORE, 0, c->buf);
		if (n != 1)
			race_fail(c->log, "RESTORE: %d (%s), want count 1", n, strerror(errno));
	} else if (w == 1 && phase == 2) {
		if (!race_check(c->log, "QUERY",
				race_err(exp_query(c->exp, c->buf, NULL, 0, &q)), RACE_OK(0)) &&
		    q.nr_attachments)
			race_fail(c->log, "importer closed, %u attachment(s) left",
				  q.nr_attachments);
	}
}

TEST_F_TIMEOUT(race, importer_close_vs_revoke, 900)
{
	struct race_ctx *c = &self->c;

	if (!c->can_map)
		SKIP(return, NO_ROUTE);
	c->buf = new_buf(c->exp);
	ASSERT_LE(0, c->buf);
	self->run->iters = self->iters;
	self->run->phases = 3;
	self->run->nr = 2;
	self->run->work = imp_close_work;
	race_run_go(self->run);
	race_report(_metadata, self, "importer close vs revoke");
}

/*
 * module_removal_while_buffers_live: worker 0 tries to remove both modules
 * (O_NONBLOCK) while worker 1 opens, exports, imports, maps and closes, and
 * the test holds an exporter file, a buffer and a mapped import throughout.
 * Removal must fail (-EAGAIN: in use; -EBUSY: going) and nothing else
 * changes. Last, with only a dma-buf fd left, the exporter module must
 * still refuse to go: the buffer's ops live in it.
 */
static int try_rmmod(const char *name)
{
	return race_err(syscall(SYS_delete_module, name, O_NONBLOCK));
}

static void rmmod_work(void *ctx, unsigned int w, unsigned int phase,
		       unsigned int i)
{
	struct race_ctx *c = ctx;
	struct p2pbuf_imp_map m;
	int exp, buf, imp, h;

	if (w == 0) {
		race_check(c->log, "delete_module(" EXP_DRV ")", try_rmmod(EXP_DRV),
			   RACE_OK(EAGAIN, EBUSY));
		race_check(c->log, "delete_module(" IMP_DRV ")", try_rmmod(IMP_DRV),
			   RACE_OK(EAGAIN, EBUSY));
		return;
	}
	exp = open_node(c->exp_node);
	imp = open_node(c->imp_node);
	buf = exp < 0 ? -1 : new_buf(exp);
	if (exp < 0 || imp < 0 || buf < 0) {
		race_fail(c->log, "open/EXPORT while removing: %s", strerror(errno));
	} else {
		h = imp_import(imp, buf, 0);
		race_check(c->log, "IMPORT", race_err(h),
			   c->can_map ? RACE_OK(0) : RACE_OK(EXDEV));
		if (h > 0)
			race_check(c->log, "MAP", race_err(imp_map(imp, h, &m)), RACE_OK(0));
	}
	if (buf >= 0)
		close(buf);
	if (imp >= 0)
		close(imp);
	if (exp >= 0)
		close(exp);
}

TEST_F_TIMEOUT(race, module_removal_while_buffers_live, 900)
{
	struct race_ctx *c = &self->c;
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_map m;
	int h = 0;

	c->buf = new_buf(c->exp);
	ASSERT_LE(0, c->buf);
	if (c->can_map) {
		h = imp_import(c->imp[0], c->buf, 0);
		ASSERT_LT(0, h);
		ASSERT_EQ(0, imp_map(c->imp[0], h, &m));
	}
	self->run->iters = self->iters;
	self->run->phases = 1;
	self->run->nr = 2;
	self->run->work = rmmod_work;
	race_run_go(self->run);
	race_report(_metadata, self, "module removal while buffers live");
	ASSERT_EQ(0, access("/sys/module/" EXP_DRV, F_OK));
	ASSERT_EQ(0, access("/sys/module/" IMP_DRV, F_OK));
	if (h) {
		ASSERT_EQ(0, imp_status(c->imp[0], h, &st));
		EXPECT_EQ(P2PBUF_IMP_STATE_MAPPED, st.state);
		EXPECT_EQ(0ULL, st.invalidations);
	}

	/* Only the dma-buf left: it still pins the exporter module. */
	close(c->imp[0]);
	c->imp[0] = -1;
	close(c->exp);
	c->exp = -1;
	EXPECT_EQ(EAGAIN, try_rmmod(EXP_DRV));
	ASSERT_EQ(0, access("/sys/module/" EXP_DRV, F_OK));
}
