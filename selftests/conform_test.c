// SPDX-License-Identifier: GPL-2.0
/*
 * conform_test: the exporter conformance kit. Every exporter with a variant
 * of the conform fixture (one adapter each, conform.h) goes through the same
 * checks,
 * with p2pbuf_importer on the lab's initiator as the importer and its DMA
 * engine moving the data:
 *
 *   attach_gating       importers without peer2peer, without revocation, or
 *                       neither are refused; a well-behaved one is not
 *   map_type            the map type of the route, or a refusal where there
 *                       is none
 *   data_both_ways      device writes read back through the exporter's own
 *                       view, and its writes read by the device (probes at
 *                       the start, across a page, at the end)
 *   revoke_invalidates  revoke tells every importer (invalidate_mappings)
 *                       before it returns, and waits for the unmap of one
 *                       that holds its mapping CONF_HOLD_MS, not much longer
 *   map_after_revoke    a map of the revoked buffer fails with the errno
 *   restore             after restore the buffer maps and moves data again
 *   close_owner         closing what owns the buffer revokes it (or, for
 *                       system memory, leaves the import working)
 *   multi_range         a buffer of four ranges, out of order with gaps,
 *                       maps and every byte lands where it belongs
 *   big_range           one range of more than 4 GiB maps; data at its start,
 *                       across the 4 GiB line and at its end
 *   scm_rights          a child gets the buffer over a unix socket, imports
 *                       and moves data after the parent closed its fd
 *   close_orders        dma-buf, import and owner closed in every order:
 *                       nothing fails, no buffer outlives them
 *   kmemleak_cycles     CONF_FULL_CYCLES export-to-close and CONF_CYCLES
 *                       map/unmap cycles leak nothing (no object of the
 *                       process that ran them in kmemleak's report; the
 *                       cycles run first, in conform_leak.<exporter>.cycles,
 *                       and one settle serves all exporters)
 *
 * A check an exporter cannot take part in SKIPs with a reason beginning
 * "n/a:"; lab/summary.py shows the table exporter x check.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "conform.h"
#include "importer_lib.h"
#include "slowimp_lib.h"

#define CONF_LEN	(64 * 1024U)	/* a range of the kit's buffers */
#define CONF_GAP	(64 * 1024U)	/* between ranges in the exporter */
/*
 * Bytes moved where a check probes the data rather than all of it: a DMA of
 * QEMU's edu engine (at most 4 KiB) takes about 100 ms.
 */
#define CONF_PROBE	4096U
#define CONF_CYCLES	64		/* map/unmap cycles, kmemleak_cycles */
#define CONF_FULL_CYCLES 16		/* export ... close cycles */
#define CONF_BIG	((4ULL << 30) + (2ULL << 20))

#define NO_ROUTE "no p2pdma route in this topology: the exporter or the map refuses (P2PBUF_EXPECT_MAP=NOT_SUPPORTED)"

/*
 * kmemleak_cycles in two parts, so that one kmemleak settle serves every
 * exporter (conform_test_leak.c): this fixture does each exporter's cycles
 * in a process of its own, then conform's kmemleak_cycles judges what that
 * process left. Declared first: the harness runs fixtures in the order they
 * are declared. Its data is conform's setup (struct _test_data_conform,
 * declared next), allocated.
 */
#ifndef CONF_CANARY
FIXTURE(conform_leak) {
	struct _test_data_conform *c;
};
#endif

FIXTURE(conform) {
	const struct conf_exporter *ex;
	void *priv;
	int imp;
	char ibdf[32];		/* the initiator, "dddd:bb:dd.f" */
	struct p2pbuf_imp_info info;
	unsigned int expect;	/* enum p2pbuf_map_type */
	bool routed;		/* a mapping exists on this route */
	int dmabufs;		/* the exporter's dma-bufs before ->open */
	long long t0;		/* ms, when the setup began */
};

FIXTURE_VARIANT(conform) {
	const struct conf_exporter *ex;
	/* conform_canary: the checks its planted defect must fail. */
	const char *planted;
};

#ifndef CONF_CANARY
FIXTURE_VARIANT_ADD(conform, p2pbuf) { .ex = &conf_p2pbuf };
FIXTURE_VARIANT_ADD(conform, vfio) { .ex = &conf_vfio };
FIXTURE_VARIANT_ADD(conform, udmabuf) { .ex = &conf_udmabuf };
FIXTURE_VARIANT_ADD(conform, heap) { .ex = &conf_heap };
#else
#include "conform_canary.h"
#endif

/* Is @name a word of the space-separated @list? */
static bool conf_in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	for (p = list; (p = strstr(p, name)); p += n)
		if ((p[n] == ' ' || !p[n]) && (p == list || p[-1] == ' '))
			return true;
	return false;
}

/*
 * Is conform.@exporter.@check in P2PBUF_AVOID? The lab names there the checks
 * that would leave a kernel report on this kernel, through a known upstream
 * defect ("avoid:" entries of lab/xfail.manifest): they are not run.
 */
static bool conf_avoided(const char *exporter, const char *check)
{
	const char *list = p2pbuf_env("P2PBUF_AVOID");
	char name[128];

	if (!list)
		return false;
	snprintf(name, sizeof(name), "conform.%s.%s", exporter, check);
	return conf_in_list(list, name);
}

/*
 * The setup of check @check of exporter @ex into @self (@planted: the
 * canary's checks, NULL for a real exporter); it SKIPs and ASSERTs as a
 * fixture setup does.
 */
static void conf_setup(struct __test_metadata *_metadata,
		       struct _test_data_conform *self,
		       const struct conf_exporter *ex, const char *check,
		       const char *planted)
{
	const char *e = p2pbuf_env("P2PBUF_EXPECT_MAP");
	char why[160];
	int ret;

	self->t0 = imp_now_ms();
	self->ex = ex;
	self->priv = NULL;
	self->imp = -1;
	if (conf_avoided(ex->name, check))
		SKIP(return, "avoided: known upstream defect on this kernel (lab/xfail.manifest)");
	/*
	 * The canary fails on purpose: it runs in the lab, whose
	 * lab/xfail.manifest expects those failures, and SKIPs elsewhere
	 * (run_kselftest.sh lists every program of selftests/suites).
	 */
	if (planted && !p2pbuf_in_lab())
		SKIP(return, "canary: runs only in the p2pbuf lab (P2PBUF_LAB=1)");
	if (planted && !conf_in_list(planted, check))
		SKIP(return, "n/a: canary: nothing planted for this check");
	self->imp = imp_open(self->ibdf, sizeof(self->ibdf));
	if (self->imp < 0)
		SKIP(return, "no p2pbuf_importer device (%s)", strerror(-self->imp));
	ASSERT_EQ(0, imp_info(self->imp, &self->info));
	ASSERT_LT(0U, self->info.dma_max)
		TH_LOG("the initiator has no DMA engine; the kit moves data with it");
	ASSERT_NE(NULL, ex->leak_frames) TH_LOG("%s: no leak_frames", ex->name);
	self->expect = ex->map_type;
	if (self->expect == P2PBUF_MAP_UNKNOWN) {
		if (!e)
			SKIP(return, "P2PBUF_EXPECT_MAP not set: the route is unknown");
		ret = imp_map_type_parse(e);
		ASSERT_LT((int)P2PBUF_MAP_UNKNOWN, ret)
			TH_LOG("P2PBUF_EXPECT_MAP %s names no map type", e);
		self->expect = ret;
	}
	self->routed = self->expect != P2PBUF_MAP_NOT_SUPPORTED;
	self->dmabufs = p2pbuf_count_dmabufs(ex->exp_name);
	ASSERT_LE(0, self->dmabufs) TH_LOG("no dma-buf debugfs: %s",
					   strerror(-self->dmabufs));
	ret = ex->open(&self->priv, why, sizeof(why));
	if (ret) {
		self->priv = NULL;
		SKIP(return, "%s: %s", why, strerror(-ret));
	}
}

/* Undo conf_setup(). */
static void conf_teardown(struct __test_metadata *_metadata,
			  struct _test_data_conform *self)
{
	TH_LOG("%s: %lld ms", self->ex->name, imp_now_ms() - self->t0);
	if (self->priv)
		self->ex->close(self->priv);
	if (self->imp >= 0)
		close(self->imp);
}

FIXTURE_SETUP(conform)
{
	conf_setup(_metadata, self, variant->ex, _metadata->name, variant->planted);
}

FIXTURE_TEARDOWN(conform)
{
	conf_teardown(_metadata, self);
}

/*
 * The reason a check does not apply to this exporter (it lacks @cap), or
 * NULL. The helpers below take the harness's fixture data, struct
 * _test_data_conform (FIXTURE_DATA(conform)).
 */
static const char *conf_na(struct _test_data_conform *self, unsigned int cap)
{
	if (self->ex->caps & cap)
		return NULL;
	switch (cap) {
	case CONF_CAP_P2P:
		return "system memory: any importer may attach";
	case CONF_CAP_REVOKE:
		return "the exporter cannot revoke";
	case CONF_CAP_MULTI_RANGE:
		return "one allocation per buffer, no ranges";
	}
	return "not supported";
}

/*
 * A buffer of @n ranges of @len bytes, placed in the exporter's memory from
 * CONF_GAP on (not at 0, so that an exporter ignoring offsets is caught), in
 * the reverse of the buffer's order with CONF_GAP between them; its fd or
 * -errno.
 */
static int conf_buf(struct _test_data_conform *self, unsigned int n, __u64 len)
{
	struct conf_range r[CONF_MAX_RANGES];
	unsigned int i;

	for (i = 0; i < n; i++) {
		r[i].offset = CONF_GAP + (__u64)(n - 1 - i) * (len + CONF_GAP);
		r[i].length = len;
	}
	return self->ex->create(self->priv, r, n);
}

/* IMPORT and MAP; 0 or the -errno of the step that failed. */
static int conf_import_map(struct _test_data_conform *self, int imp, int buf,
			   __u32 *h, struct p2pbuf_imp_map *m)
{
	int ret = imp_import(imp, buf, 0, h, NULL);

	return ret ? ret : imp_map(imp, *h, m, NULL, 0);
}

/*
 * Move [@off, @off + @len) of the buffer through the importer's DMA engine
 * (@to_buf: a pattern into it, else out of it) and compare with the
 * exporter's own view. Returns the number of bytes that differ, or -errno.
 */
static long conf_dma_check(struct _test_data_conform *self, int imp, __u32 h,
			   __u64 off, size_t len, bool to_buf,
			   unsigned int seed)
{
	unsigned char *want = malloc(len), *got = malloc(len);
	size_t done, chunk;
	long diff = -ENOMEM;
	int ret = 0;

	if (!want || !got)
		goto out;
	imp_pattern(want, len, seed);
	memset(got, 0, len);
	if (!to_buf)
		ret = self->ex->cpu_rw(self->priv, off, want, len, true);
	for (done = 0; !ret && done < len; done += chunk) {
		chunk = self->info.dma_max;
		if (chunk > len - done)
			chunk = len - done;
		ret = imp_dma(imp, h, to_buf ? P2PBUF_IMP_DMA_TO_BUF :
			      P2PBUF_IMP_DMA_FROM_BUF, off + done,
			      (to_buf ? want : got) + done, chunk);
	}
	if (!ret && to_buf)
		ret = self->ex->cpu_rw(self->priv, off, got, len, false);
	diff = ret;
	if (!ret)
		for (done = 0; done < len; done++)
			diff += want[done] != got[done];
out:
	free(want);
	free(got);
	return diff;
}

/* Both directions over [@off, @off + @len) of the buffer. */
static void conf_expect_data(struct __test_metadata *_metadata,
			     struct _test_data_conform *self, int imp, __u32 h,
			     __u64 off, size_t len, unsigned int seed)
{
	EXPECT_EQ(0, conf_dma_check(self, imp, h, off, len, true, seed))
		TH_LOG("%s: device writes at %llu+%zu read back wrong",
		       self->ex->name, (unsigned long long)off, len);
	EXPECT_EQ(0, conf_dma_check(self, imp, h, off, len, false, seed + 1))
		TH_LOG("%s: device reads at %llu+%zu see wrong data",
		       self->ex->name, (unsigned long long)off, len);
}

/* Wait for the invalidation of @h; milliseconds it took, or -errno. */
static long long conf_wait_invalidated(int imp, __u32 h, long long t0)
{
	struct p2pbuf_imp_event ev;
	int ret;

	do {
		ret = imp_read_event(imp, &ev, CONF_HOLD_MS + CONF_BOUND_MS);
		if (ret)
			return ret;
	} while (ev.handle != h || ev.type != P2PBUF_IMP_EVENT_INVALIDATED);
	return imp_now_ms() - t0;
}

TEST_F_TIMEOUT(conform, attach_gating, 60)
{
	static const __u32 bad[] = {
		P2PBUF_SLOWIMP_NO_P2P, P2PBUF_SLOWIMP_NOT_REVOCABLE,
		P2PBUF_SLOWIMP_NO_P2P | P2PBUF_SLOWIMP_NOT_REVOCABLE,
	};
	char why[200];
	unsigned int i;
	int buf, fd, ret;

	if (conf_na(self, CONF_CAP_P2P))
		SKIP(return, "n/a: %s", conf_na(self, CONF_CAP_P2P));
	buf = conf_buf(self, 1, CONF_LEN);
	ASSERT_LE(0, buf) TH_LOG("create: %s", strerror(-buf));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		fd = slow_open(why, sizeof(why));
		if (fd < 0)
			p2pbuf_feature_missing(break, "%s", why);
		/* dma-buf.h: an exporter refuses what it cannot serve, -EOPNOTSUPP. */
		ret = slow_import(fd, buf, self->ibdf, bad[i], 0) ? errno : 0;
		EXPECT_EQ(EOPNOTSUPP, ret)
			TH_LOG("importer with flags %#x: %s", bad[i],
			       ret ? strerror(ret) : "attached");
		close(fd);
	}
	/* The same importer behaving well is let in where there is a route. */
	fd = slow_open(why, sizeof(why));
	if (fd >= 0) {
		ret = slow_import(fd, buf, self->ibdf, 0, 0);
		if (self->routed)
			EXPECT_EQ(0, ret) TH_LOG("well-behaved importer refused: %s",
						 strerror(errno));
		close(fd);
	}
	close(buf);
}

TEST_F_TIMEOUT(conform, map_type, 60)
{
	struct p2pbuf_imp_map m;
	int buf, ret;
	__u32 h;

	buf = conf_buf(self, 1, CONF_LEN);
	ASSERT_LE(0, buf) TH_LOG("create: %s", strerror(-buf));
	ret = conf_import_map(self, self->imp, buf, &h, &m);
	if (self->routed) {
		ASSERT_EQ(0, ret) TH_LOG("import/map: %s", strerror(-ret));
		EXPECT_MAP_TYPE(self->expect, m.map_type);
		EXPECT_EQ(CONF_LEN, m.length);
	} else {
		EXPECT_NE(0, ret);
		TH_LOG("no route: refused with %s", strerror(-ret));
	}
	close(buf);
}

TEST_F_TIMEOUT(conform, data_both_ways, 120)
{
	struct p2pbuf_imp_map m;
	int buf, ret;
	__u32 h;

	if (!self->routed)
		SKIP(return, NO_ROUTE);
	buf = conf_buf(self, 1, CONF_LEN);
	ASSERT_LE(0, buf) TH_LOG("create: %s", strerror(-buf));
	ret = conf_import_map(self, self->imp, buf, &h, &m);
	ASSERT_EQ(0, ret) TH_LOG("import/map: %s", strerror(-ret));
	/* The first, a middle and the last page (see CONF_PROBE). */
	conf_expect_data(_metadata, self, self->imp, h, 0, CONF_PROBE, 1);
	conf_expect_data(_metadata, self, self->imp, h, CONF_LEN / 2 - 100,
			 CONF_PROBE, 3);
	conf_expect_data(_metadata, self, self->imp, h, CONF_LEN - CONF_PROBE,
			 CONF_PROBE, 5);
	close(buf);
}

/*
 * Import and map a one-range buffer twice - through p2pbuf_importer, which
 * unmaps inside invalidate_mappings, and through the lab's slow importer,
 * which keeps its mapping CONF_HOLD_MS after the invalidation - then revoke
 * it. The revoke must have told p2pbuf_importer before it returns (its
 * import is unmapped and invalidated at once) and must have waited for the
 * slow importer's unmap (dma-buf.h: the exporter waits until importers let
 * go), within CONF_BOUND_MS of that. Returns the buffer fd, *@h the
 * p2pbuf_importer import, or -errno: -EBUSY if p2pbuf_importer was not
 * invalidated, -EINPROGRESS if the slow importer had not unmapped, -ETIME
 * past the bound (each names one defect; lab/xfail.manifest tells them
 * apart in conform_canary).
 */
static int conf_revoked(struct __test_metadata *_metadata,
			struct _test_data_conform *self, __u32 *h)
{
	struct p2pbuf_slowimp_status slow_st;
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_map m;
	int buf, slow, ret;
	char why[160];
	__u64 t0, t1;

	buf = conf_buf(self, 1, CONF_LEN);
	if (buf < 0)
		return buf;
	slow = slow_open(why, sizeof(why));
	if (slow < 0) {
		TH_LOG("%s", why);
		ret = slow;
		goto err_close_buf;
	}
	ret = conf_import_map(self, self->imp, buf, h, &m);
	if (!ret && (slow_import(slow, buf, self->ibdf, P2PBUF_SLOWIMP_HOLD,
				 CONF_HOLD_MS) ||
		     ioctl(slow, P2PBUF_SLOWIMP_MAP)))
		ret = -errno;
	if (ret)
		goto err_close_slow;
	imp_drain_events(self->imp);
	t0 = imp_now_ns();
	ret = self->ex->revoke(self->priv, buf);
	t1 = imp_now_ns();
	if (ret)
		goto err_close_slow;
	/* Before anything else can happen: what the revoke did. */
	ret = imp_status(self->imp, *h, &st);
	if (!ret && slow_status(slow, &slow_st))
		ret = -errno;
	if (ret)
		goto err_close_slow;
	TH_LOG("%s: revoke took %llu ms, the slow importer held for %d ms",
	       self->ex->name, (t1 - t0) / 1000000, CONF_HOLD_MS);
	if (st.state & P2PBUF_IMP_STATE_MAPPED ||
	    !(st.state & P2PBUF_IMP_STATE_INVALIDATED)) {
		TH_LOG("revoke returned before invalidate_mappings (state %#x)",
		       st.state);
		ret = -EBUSY;
	} else if (!slow_st.invalidations || !slow_st.unmap_ns ||
		   slow_st.unmap_ns > t1) {
		TH_LOG("revoke returned before the slow importer unmapped");
		ret = -EINPROGRESS;
	} else if ((t1 - t0) / 1000000 > CONF_HOLD_MS + CONF_BOUND_MS) {
		TH_LOG("beyond the bound of %d ms", CONF_HOLD_MS + CONF_BOUND_MS);
		ret = -ETIME;
	}
	if (ret)
		goto err_close_slow;
	close(slow);
	imp_drain_events(self->imp);
	return buf;
err_close_slow:
	if (slow >= 0)
		close(slow);
err_close_buf:
	close(buf);
	return ret;
}

TEST_F_TIMEOUT(conform, revoke_invalidates, 60)
{
	int buf;
	__u32 h;

	if (conf_na(self, CONF_CAP_REVOKE))
		SKIP(return, "n/a: %s", conf_na(self, CONF_CAP_REVOKE));
	if (!self->routed)
		SKIP(return, NO_ROUTE);
	buf = conf_revoked(_metadata, self, &h);
	ASSERT_LE(0, buf) TH_LOG("revoke did not invalidate and unmap: %s",
				 strerror(-buf));
	ASSERT_EQ(0, self->ex->restore(self->priv, buf));
	close(buf);
}

TEST_F_TIMEOUT(conform, map_after_revoke, 60)
{
	struct p2pbuf_imp_map m;
	int buf, ret;
	__u32 h, h2;

	if (conf_na(self, CONF_CAP_REVOKE))
		SKIP(return, "n/a: %s", conf_na(self, CONF_CAP_REVOKE));
	if (!self->routed)
		SKIP(return, NO_ROUTE);
	buf = conf_revoked(_metadata, self, &h);
	ASSERT_LE(0, buf) TH_LOG("revoke: %s", strerror(-buf));
	EXPECT_EQ(-self->ex->revoked_errno, imp_map(self->imp, h, &m, NULL, 0));
	/* A new import of the revoked buffer maps no better. */
	ret = imp_import(self->imp, buf, 0, &h2, NULL);
	if (!ret) {
		EXPECT_EQ(-self->ex->revoked_errno,
			  imp_map(self->imp, h2, &m, NULL, 0));
	} else {
		TH_LOG("%s: import of the revoked buffer refused: %s",
		       self->ex->name, strerror(-ret));
	}
	ASSERT_EQ(0, self->ex->restore(self->priv, buf));
	close(buf);
}

TEST_F_TIMEOUT(conform, restore, 120)
{
	struct p2pbuf_imp_map m;
	int buf;
	__u32 h;

	if (conf_na(self, CONF_CAP_REVOKE))
		SKIP(return, "n/a: %s", conf_na(self, CONF_CAP_REVOKE));
	if (!self->routed)
		SKIP(return, NO_ROUTE);
	buf = conf_revoked(_metadata, self, &h);
	ASSERT_LE(0, buf) TH_LOG("revoke: %s", strerror(-buf));
	ASSERT_EQ(0, self->ex->restore(self->priv, buf));
	ASSERT_EQ(0, imp_map(self->imp, h, &m, NULL, 0));
	EXPECT_MAP_TYPE(self->expect, m.map_type);
	conf_expect_data(_metadata, self, self->imp, h, 0, CONF_PROBE, 3);
	conf_expect_data(_metadata, self, self->imp, h, CONF_LEN - CONF_PROBE,
			 CONF_PROBE, 5);
	close(buf);
}

TEST_F_TIMEOUT(conform, close_owner, 120)
{
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_event ev;
	struct p2pbuf_imp_map m;
	long long t0, ms;
	int buf, ret;
	__u32 h;

	if (!self->ex->close_owner)
		SKIP(return, "n/a: the dma-buf is the only owner of its memory");
	if (!self->routed)
		SKIP(return, NO_ROUTE);
	buf = conf_buf(self, 1, CONF_LEN);
	ASSERT_LE(0, buf) TH_LOG("create: %s", strerror(-buf));
	ret = conf_import_map(self, self->imp, buf, &h, &m);
	ASSERT_EQ(0, ret) TH_LOG("import/map: %s", strerror(-ret));
	imp_drain_events(self->imp);
	if (!(self->ex->caps & CONF_CAP_OWNER_REVOKES)) {
		/* The pages stay with the buffer: the import keeps working. */
		ASSERT_EQ(0, self->ex->close_owner(self->priv));
		conf_expect_data(_metadata, self, self->imp, h, 0, CONF_PROBE, 5);
		EXPECT_EQ(-ETIMEDOUT, imp_read_event(self->imp, &ev, 200));
		close(buf);
		return;
	}
	t0 = imp_now_ms();
	ASSERT_EQ(0, self->ex->close_owner(self->priv));
	/* Invalidated and unmapped before the close returned. */
	ASSERT_EQ(0, imp_status(self->imp, h, &st));
	EXPECT_EQ(P2PBUF_IMP_STATE_INVALIDATED,
		  st.state & (P2PBUF_IMP_STATE_INVALIDATED | P2PBUF_IMP_STATE_MAPPED));
	ms = conf_wait_invalidated(self->imp, h, t0);
	ASSERT_LE(0, ms) TH_LOG("no invalidation: %s", strerror(-ms));
	TH_LOG("%s: invalidate_mappings %lld ms after the close", self->ex->name, ms);
	EXPECT_GE(CONF_BOUND_MS, ms);
	EXPECT_EQ(-self->ex->revoked_errno, imp_map(self->imp, h, &m, NULL, 0));
	close(buf);
}

#include "conform_test_range.c"
#include "conform_test_fd.c"
#include "conform_test_leak.c"

TEST_HARNESS_MAIN
