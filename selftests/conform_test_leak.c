// SPDX-License-Identifier: GPL-2.0
/*
 * conform_test, kmemleak over export and map cycles: CONF_FULL_CYCLES
 * export-to-close and CONF_CYCLES map/unmap cycles of each exporter leak
 * nothing. Part of conform_test.c (the harness allows one translation
 * unit), not a program of its own.
 *
 * A kmemleak verdict costs a settle: two scans of all kernel memory, the
 * second at least 5 s after the objects it judges were allocated
 * (mm/kmemleak.c reports an object only once it is older than that and its
 * checksum held between two scans). One settle per exporter was most of
 * this suite's CPU time under TCG, so the work is split: the conform_leak
 * fixture, which the harness runs before conform's, runs each exporter's
 * cycles in a test process of its own and records that process in memory
 * every test process of this run shares; the first of conform's
 * kmemleak_cycles checks settles once, and each judges the objects of its
 * own exporter's process. A kmemleak_cycles run on its own (a filter, one
 * igt subtest) finds no record and runs the cycles and the settle itself.
 */

/* Records of conform_leak's cycles, shared by this run's test processes. */
struct conf_leak_run {
	char exporter[32];
	pid_t pid;		/* the process that ran the cycles */
	long long end_ms;	/* imp_now_ms() when they ended */
};

struct conf_leak_runs {
	unsigned int n;
	bool settled;		/* scanned after every recorded run */
	long long settle_ms;	/* how long that settle took */
	struct conf_leak_run run[16];
};

static struct conf_leak_runs *conf_runs;

/* Before the harness forks its first test: one mapping for all of them. */
static void __attribute__((constructor)) conf_runs_map(void)
{
	void *p = mmap(NULL, sizeof(*conf_runs), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	conf_runs = p == MAP_FAILED ? NULL : p;
}

/* The recorded cycles of exporter @name in this run, or NULL. */
static const struct conf_leak_run *conf_run_of(const char *name)
{
	unsigned int i;

	for (i = 0; conf_runs && i < conf_runs->n; i++)
		if (!strcmp(conf_runs->run[i].exporter, name))
			return &conf_runs->run[i];
	return NULL;
}

/*
 * Objects kmemleak reports as leaked that process @pid allocated (the "pid"
 * of its report) through the exporter's functions, the dma-buf core or
 * p2pbuf_importer; or -errno. Leaks of other processes are not counted.
 */
static int conf_leaks(const struct conf_exporter *ex, pid_t pid)
{
	static const char * const core[] = {
		"dma_buf_", "sg_alloc_table", "p2pbuf_imp_", NULL,
	};
	int n = 0, ours = 0, framed = 0, i;
	char line[512], comm[32];
	FILE *f;

	f = fopen("/sys/kernel/debug/kmemleak", "re");
	if (!f)
		return -errno;
	snprintf(comm, sizeof(comm), " pid %d,", pid);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "unreferenced object", 19)) {
			n += ours && framed;
			ours = 0;
			framed = 0;
		} else if (strstr(line, "comm \"")) {
			ours = !!strstr(line, comm);
		} else {
			for (i = 0; ex->leak_frames[i]; i++)
				framed |= !!strstr(line, ex->leak_frames[i]);
			for (i = 0; core[i]; i++)
				framed |= !!strstr(line, core[i]);
		}
	}
	n += ours && framed;
	fclose(f);
	return n;
}

/* Export, import, map, unmap, release, close: 0 or the failed step's -errno. */
static int conf_full_cycle(struct _test_data_conform *self)
{
	struct p2pbuf_imp_map m;
	int buf, ret;
	__u32 h;

	buf = conf_buf(self, 1, CONF_LEN);
	if (buf < 0)
		return buf;
	ret = conf_import_map(self, self->imp, buf, &h, &m);
	if (!ret)
		ret = imp_handle_op(self->imp, P2PBUF_IMP_UNMAP, h);
	if (!ret)
		ret = imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h);
	close(buf);
	return ret;
}

/* The cycles, in this process; a failed one fails the test. */
static void conf_cycles(struct __test_metadata *_metadata,
			struct _test_data_conform *self)
{
	unsigned int type = P2PBUF_MAP_UNKNOWN, segs, i;
	int buf, ret;

	for (i = 0; i < CONF_FULL_CYCLES; i++) {
		ret = conf_full_cycle(self);
		ASSERT_EQ(0, ret) TH_LOG("export/import cycle %u: %s", i,
					 strerror(-ret));
	}
	buf = conf_buf(self, 1, CONF_LEN);
	ASSERT_LE(0, buf) TH_LOG("create: %s", strerror(-buf));
	ret = imp_map_cycles(self->ibdf, buf, CONF_CYCLES, NULL, NULL, &type,
			     &segs);
	close(buf);
	ASSERT_EQ(0, ret) TH_LOG("map_cycles: %s", strerror(-ret));
	EXPECT_MAP_TYPE(self->expect, type);
}

/*
 * A settle for objects allocated until @since_ms (imp_now_ms()): two scans,
 * the second at least 6 s after @since_ms. 0 or -errno.
 */
static int conf_settle(long long since_ms)
{
	int ret;

	if (imp_now_ms() - since_ms < 6000)
		return p2pbuf_kmemleak_settle();
	ret = p2pbuf_kmemleak_scan();
	return ret ? ret : p2pbuf_kmemleak_scan();
}

/* Can the check take part here? If not, it SKIPs and this says false. */
static bool conf_leak_gate(struct __test_metadata *_metadata,
			   struct _test_data_conform *self)
{
	if (!self->routed)
		SKIP(return false, NO_ROUTE);
	if (access("/sys/kernel/debug/kmemleak", W_OK))
		p2pbuf_feature_missing(return false,
				       "kmemleak not available: no verdict on leaks");
	return true;
}

#ifndef CONF_CANARY
FIXTURE_VARIANT(conform_leak) {
	const struct conf_exporter *ex;
};

FIXTURE_VARIANT_ADD(conform_leak, p2pbuf) { .ex = &conf_p2pbuf };
FIXTURE_VARIANT_ADD(conform_leak, vfio) { .ex = &conf_vfio };
FIXTURE_VARIANT_ADD(conform_leak, udmabuf) { .ex = &conf_udmabuf };
FIXTURE_VARIANT_ADD(conform_leak, heap) { .ex = &conf_heap };

FIXTURE_SETUP(conform_leak)
{
	self->c = calloc(1, sizeof(*self->c));
	ASSERT_NE(NULL, self->c);
	conf_setup(_metadata, self->c, variant->ex, "kmemleak_cycles", NULL);
}

FIXTURE_TEARDOWN(conform_leak)
{
	unsigned int i;

	if (!self->c)
		return;
	if (self->c->ex)
		conf_teardown(_metadata, self->c);
	free(self->c);
	/* The exporter's close allocates and frees too: age from here. */
	for (i = 0; conf_runs && i < conf_runs->n; i++)
		if (conf_runs->run[i].pid == getpid())
			conf_runs->run[i].end_ms = imp_now_ms();
}

/*
 * The first part of conform.<exporter>.kmemleak_cycles: the cycles, whose
 * process that check judges. Passes when every cycle worked.
 */
TEST_F_TIMEOUT(conform_leak, cycles, 120)
{
	struct conf_leak_run *run;

	if (!conf_leak_gate(_metadata, self->c))
		return;
	ASSERT_NE(NULL, conf_runs) TH_LOG("no shared memory for the records");
	ASSERT_GT(ARRAY_SIZE(conf_runs->run), conf_runs->n);
	ASSERT_EQ(NULL, conf_run_of(self->c->ex->name));
	conf_cycles(_metadata, self->c);
	if (_metadata->exit_code)
		return;
	run = &conf_runs->run[conf_runs->n];
	snprintf(run->exporter, sizeof(run->exporter), "%s", self->c->ex->name);
	run->pid = getpid();
	run->end_ms = imp_now_ms();
	conf_runs->settled = false;
	conf_runs->n++;
	TH_LOG("%s: cycles in pid %d; judged in conform.%s.kmemleak_cycles",
	       self->c->ex->name, getpid(), self->c->ex->name);
}
#endif

TEST_F_TIMEOUT(conform, kmemleak_cycles, 120)
{
	const struct conf_leak_run *run;
	long long t0, last = 0;
	pid_t pid = getpid();
	unsigned int i;
	int leaks;

	if (!conf_leak_gate(_metadata, self))
		return;
	run = conf_run_of(self->ex->name);
	t0 = imp_now_ms();
	if (run) {
		pid = run->pid;
		if (!conf_runs->settled) {
			for (i = 0; i < conf_runs->n; i++)
				if (conf_runs->run[i].end_ms > last)
					last = conf_runs->run[i].end_ms;
			ASSERT_EQ(0, conf_settle(last));
			conf_runs->settle_ms = imp_now_ms() - t0;
			conf_runs->settled = true;
		}
	} else {
		conf_cycles(_metadata, self);
		t0 = imp_now_ms();
		ASSERT_EQ(0, conf_settle(t0));
	}
	leaks = conf_leaks(self->ex, pid);
	ASSERT_LE(0, leaks);
	TH_LOG("%s: %d objects leaked in %u export and %u map cycles (pid %d; kmemleak %lld ms%s)",
	       self->ex->name, leaks, CONF_FULL_CYCLES, CONF_CYCLES, pid,
	       run ? conf_runs->settle_ms : imp_now_ms() - t0,
	       run ? ", one settle for this run's cycles" : "");
	EXPECT_EQ(0, leaks);
}
