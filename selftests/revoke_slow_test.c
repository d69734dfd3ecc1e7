// SPDX-License-Identifier: GPL-2.0
/*
 * revoke_slow_test: p2pbuf_exporter's revoke against importers that are
 * slow to let go and against fences, with the lab's misbehaving importer
 * p2pbuf_slowimp (lab/test-modules/, loaded from $P2PBUF_TEST_MODDIR).
 *
 * - hold.*: a REVOKE, the close of the exporter file and the unbind of the
 *   provider each block while the slow importer keeps its mapping after
 *   invalidate_mappings (until told, or for a time after which its work
 *   item unmaps), while an unsignalled sw_sync write fence sits in the
 *   buffer's reservation object, or both (the fence first, then the
 *   mapping). The exporter's report names what it waits for: the importer
 *   by device and callback, the fence by driver and timeline. Each call
 *   returns within SLOW_PROMPT_MS of the unmap or the signal. The deliberate
 *   holds raise the exporter's revoke_bound_ms by SLOW_HOLD_BUDGET_MS for
 *   the test (docs/revoke.rst); revoke_bound_canary shows that a hold past
 *   the bound fails the run.
 * - slow.refusals: an importer without invalidate_mappings that asks for
 *   peer2peer, one without peer2peer and one with neither are refused with
 *   -EOPNOTSUPP, and the exporter's refusal counter (debugfs) of the reason
 *   moves by one; a well-behaved one attaches (or, without a route, is
 *   refused as no-route) and unmaps inside its callback.
 * - slow.readonly_refuses_device_writes: a buffer exported with
 *   P2PBUF_EXP_EXPORT_DEVICE_READONLY is refused with -EACCES to the slow
 *   importer, which maps it DMA_BIDIRECTIONAL, and still maps for
 *   p2pbuf_importer, which maps a read-only import DMA_TO_DEVICE; an
 *   O_RDONLY export without the flag still maps DMA_BIDIRECTIONAL.
 * - slow.killable_waits: a REVOKE blocked on an unsignalled fence, and the
 *   RESTORE that must then finish its drain, each die within
 *   SLOW_PROMPT_MS of SIGKILL; after the signal a RESTORE restores.
 * - slow.dma_fence_timeout: p2pbuf_importer's DMA obeys the buffer's
 *   implicit fences and gives up after its 10 s (importer/dma.c) with
 *   -ETIMEDOUT: a write fence stops reads, a read fence stops writes but not
 *   reads; once the fences signal the DMA works and the data is intact.
 *
 * Needs the lab (P2PBUF_PROVIDER_BDF, P2PBUF_INITIATOR_BDF,
 * P2PBUF_EXPECT_MAP). Where p2pdma cannot route between the devices, what
 * needs a mapping SKIPs.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/wait.h>

#include <linux/p2pbuf_importer.h>

#include "p2pbuf_test.h"
#include "exporter_lib.h"
#include "revoke_slow_lib.h"

/*
 * A call returns this soon after what it waited for let go: well below the
 * exporter's 5 s report period, which a wait that missed the wake-up would
 * take, with room for a TCG guest on a shared host (it takes milliseconds).
 */
#define SLOW_PROMPT_MS		2000
/* How late a report may come, on top of its period, on a loaded TCG host. */
#define SLOW_SLACK_MS		10000
/*
 * How much shorter than its period, in this process' CLOCK_MONOTONIC, the
 * exporter's first report may come: the period starts at the wait's
 * jiffies, which lag the clock by however long the vCPU went without a
 * tick (seen: 64 ms, a TCG guest on a loaded 2-core host).
 */
#define SLOW_JIFFIES_SLACK_MS	500
/* The bound is raised by this much for a test's own deliberate holds. */
#define SLOW_HOLD_BUDGET_MS	(2 * (SLOW_REPORT_MS + SLOW_SLACK_MS))
/* The timed hold: longer than the first report, so that it is seen. */
#define SLOW_TIMED_HOLD_MS	8000
/* p2pbuf_importer's fence wait before -ETIMEDOUT (importer/dma.c). */
#define SLOW_IMP_FENCE_MS	10000
/* One DMA: within the edu's 4 KiB engine buffer. */
#define SLOW_DMA_LEN		1024

/* Count of each refusal reason in the exporter's debugfs, in its order. */
enum { REF_NO_P2P, REF_NOT_REVOCABLE, REF_REVOKED, REF_NO_ROUTE, REF_NR };
#define REF_LINE	\
	"refused attaches: no-p2p %d not-revocable %d revoked %d no-route %d"

static int refusal_counts(const char *bdf, int n[REF_NR])
{
	FILE *f = p2pbuf_exp_state_open(bdf);
	int found = -ENOENT;
	char line[256];

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, REF_LINE, &n[REF_NO_P2P], &n[REF_NOT_REVOCABLE],
			   &n[REF_REVOKED], &n[REF_NO_ROUTE]) == REF_NR)
			found = 0;
	fclose(f);
	return found;
}

static int slow_dma(int imp, __u32 handle, __u32 flags, void *data, __u64 len)
{
	struct p2pbuf_imp_dma arg = {
		.argsz = sizeof(arg), .flags = flags, .handle = handle,
		.length = len, .data = (uintptr_t)data,
	};

	return ioctl(imp, P2PBUF_IMP_DMA, &arg) ? -errno : 0;
}

FIXTURE(hold) {
	struct slow_env e;
};

FIXTURE_VARIANT(hold) {
	enum slow_op_kind op;
	bool mapping;		/* the slow importer keeps a mapping */
	__u32 hold_ms;		/* ... this long; 0: until LET_GO */
	bool fence;		/* an unsignalled write fence */
};

FIXTURE_VARIANT_ADD(hold, revoke_mapping) {
	.op = SLOW_OP_REVOKE, .mapping = true,
};

FIXTURE_VARIANT_ADD(hold, revoke_mapping_timed) {
	.op = SLOW_OP_REVOKE, .mapping = true, .hold_ms = SLOW_TIMED_HOLD_MS,
};

FIXTURE_VARIANT_ADD(hold, revoke_fence) {
	.op = SLOW_OP_REVOKE, .fence = true,
};

FIXTURE_VARIANT_ADD(hold, revoke_fence_then_mapping) {
	.op = SLOW_OP_REVOKE, .mapping = true, .fence = true,
};

FIXTURE_VARIANT_ADD(hold, close_mapping) {
	.op = SLOW_OP_CLOSE, .mapping = true,
};

FIXTURE_VARIANT_ADD(hold, close_fence) {
	.op = SLOW_OP_CLOSE, .fence = true,
};

FIXTURE_VARIANT_ADD(hold, unbind_mapping) {
	.op = SLOW_OP_UNBIND, .mapping = true,
};

FIXTURE_VARIANT_ADD(hold, unbind_fence) {
	.op = SLOW_OP_UNBIND, .fence = true,
};

FIXTURE_SETUP(hold)
{
	char why[256];
	int ret = slow_env_open(&self->e, why, sizeof(why));

	if (ret > 0)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, ret) TH_LOG("%s", why);
}

FIXTURE_TEARDOWN(hold)
{
	slow_env_close(&self->e);
}

static const char * const slow_op_names[] = {
	[SLOW_OP_REVOKE] = "REVOKE",
	[SLOW_OP_CLOSE] = "close of the exporter file",
	[SLOW_OP_UNBIND] = "unbind of the provider",
};

/*
 * Start the op, which must block on what the variant holds; release the
 * fence, then the mapping, each once the exporter has named it in the log
 * and the op is still blocked; the op must return promptly after the last
 * release.
 */
TEST_F_TIMEOUT(hold, blocks_until_let_go, 120)
{
	struct slow_env *e = &self->e;
	const char *name = slow_op_names[variant->op];
	struct p2pbuf_slowimp_status st;
	long long released = 0, blocked, after;
	char who[128], line[512];
	const char * const words[] = { who, NULL };
	struct p2pbuf_exp_query q;

	if (variant->mapping && !e->routable)
		SKIP(return, "no p2pdma route from %s to %s (%s): no mapping to hold",
		     e->p.pbdf, e->p.ibdf, getenv("P2PBUF_EXPECT_MAP"));

	ASSERT_LE(0, slow_export(e, 4)) TH_LOG("EXPORT: %s", strerror(errno));
	if (variant->mapping) {
		ASSERT_EQ(0, slow_import(e->slow, e->buf, e->p.ibdf,
					 P2PBUF_SLOWIMP_HOLD, variant->hold_ms))
			TH_LOG("slow IMPORT: %s", strerror(errno));
		ASSERT_EQ(0, ioctl(e->slow, P2PBUF_SLOWIMP_MAP))
			TH_LOG("slow MAP: %s", strerror(errno));
	}
	if (variant->fence) {
		e->timeline = slow_timeline();
		ASSERT_LE(0, e->timeline) TH_LOG("sw_sync: %s", strerror(-e->timeline));
		ASSERT_EQ(0, slow_attach_fence(e->timeline, 1, e->buf, 1));
	}

	/* The holds below are deliberate: the bound is for what follows. */
	ASSERT_EQ(0, slow_bound_set(e->bound + SLOW_HOLD_BUDGET_MS));
	e->bound_raised = true;

	e->op.kind = variant->op;
	e->op.exp = e->p.exp;
	e->op.buf = e->buf;
	e->op.bdf = e->p.pbdf;
	if (variant->op == SLOW_OP_CLOSE)
		e->p.exp = -1;		/* the op closes it */
	if (variant->op == SLOW_OP_UNBIND)
		e->unbound = true;
	ASSERT_EQ(0, slow_op_start(&e->op));

	if (variant->fence) {
		snprintf(who, sizeof(who), "revoke still waits for fence sw_sync:");
		ASSERT_EQ(1, slow_kmsg_wait(e->kmsg, words,
					    SLOW_REPORT_MS + SLOW_SLACK_MS,
					    line, sizeof(line)))
			TH_LOG("%s: no report of the fence", name);
		TH_LOG("%s: %s", name, line);
		ASSERT_FALSE(slow_op_done(&e->op))
			TH_LOG("%s returned before the fence signalled", name);
		released = slow_now_ns();
		ASSERT_EQ(0, slow_signal(e->timeline));
	}
	if (variant->mapping) {
		snprintf(who, sizeof(who), "revoke still waits for %s (p2pbuf_slowimp_invalidate",
			 e->p.ibdf);
		ASSERT_EQ(1, slow_kmsg_wait(e->kmsg, words,
					    SLOW_REPORT_MS + SLOW_SLACK_MS,
					    line, sizeof(line)))
			TH_LOG("%s: no report naming the slow importer", name);
		TH_LOG("%s: %s", name, line);
		ASSERT_FALSE(slow_op_done(&e->op))
			TH_LOG("%s returned while the mapping was kept", name);
		ASSERT_EQ(0, slow_status(e->slow, &st));
		EXPECT_EQ(P2PBUF_SLOWIMP_MAPPED | P2PBUF_SLOWIMP_HELD, st.state);
		EXPECT_EQ(1U, st.invalidations);
		if (variant->op == SLOW_OP_REVOKE) {
			struct p2pbuf_exp_attach_state att;

			/* Invalidated but not unmapped: QUERY still counts it. */
			ASSERT_EQ(0, exp_query(e->p.exp, e->buf, &att, 1, &q));
			EXPECT_EQ((__u32)P2PBUF_EXP_BUF_REVOKED, q.state);
			EXPECT_EQ(1U, q.nr_attachments);
			EXPECT_EQ(1U, att.nr_mappings);
		}
		/* A timed hold lets go by itself. */
		if (!variant->hold_ms)
			ASSERT_EQ(0, ioctl(e->slow, P2PBUF_SLOWIMP_LET_GO));
	}

	slow_op_join(&e->op);
	if (variant->mapping) {
		ASSERT_EQ(0, slow_status(e->slow, &st));
		EXPECT_EQ(0U, st.state);
		released = st.unmap_ns;
		if (variant->hold_ms)
			EXPECT_LE(variant->hold_ms,
				  slow_ms(st.unmap_ns - st.inval_ns));
	}
	EXPECT_EQ(variant->op == SLOW_OP_REVOKE ? 1 : 0, e->op.ret)
		TH_LOG("%s: %s", name, strerror(-e->op.ret));
	blocked = slow_ms(e->op.t1 - e->op.t0);
	after = slow_ms(e->op.t1 - released);
	TH_LOG("%s blocked %lld ms; returned %lld ms after the %s let go",
	       name, blocked, after, variant->mapping ? "importer" : "fence");
	/* It was still blocked at the report (asserted above). */
	EXPECT_LE(SLOW_REPORT_MS - SLOW_JIFFIES_SLACK_MS, blocked);
	EXPECT_LE(0, after);
	EXPECT_GT(SLOW_PROMPT_MS, after);

	/* What the op left behind. */
	if (variant->mapping)
		EXPECT_ERRNO(ENODEV, ioctl(e->slow, P2PBUF_SLOWIMP_MAP));
	if (variant->op == SLOW_OP_REVOKE) {
		ASSERT_EQ(0, exp_query(e->p.exp, e->buf, NULL, 0, &q));
		EXPECT_EQ((__u32)P2PBUF_EXP_BUF_REVOKED, q.state);
		EXPECT_EQ(1U, q.revokes);
		/*
		 * The importer unmapped after the revoke had swept the kept
		 * tables: that unmap frees its own (exporter/dmabuf.c).
		 */
		EXPECT_EQ(0, p2pbuf_exp_state_lines(e->p.pbdf, NULL, "cached-table yes"))
			TH_LOG("a late unmap left the revoked buffer a table of the BAR");
	} else if (variant->op == SLOW_OP_CLOSE) {
		EXPECT_LE(1, exp_debugfs_bufs(e->p.pbdf, "orphaned"));
	} else {
		ASSERT_EQ(0, p2pbuf_pci_bind(e->p.pbdf, EXP_NAME));
		e->unbound = false;
	}
}

FIXTURE(slow) {
	struct slow_env e;
};

FIXTURE_SETUP(slow)
{
	char why[256];
	int ret = slow_env_open(&self->e, why, sizeof(why));

	if (ret > 0)
		SKIP(return, "%s", why);
	ASSERT_EQ(0, ret) TH_LOG("%s", why);
}

FIXTURE_TEARDOWN(slow)
{
	slow_env_close(&self->e);
}

/*
 * Importers that could keep a mapping for unbounded time are refused at
 * attach, each counted under its reason; a well-behaved one is not.
 */
TEST_F(slow, refusals)
{
	static const struct {
		__u32 flags;
		int reason;
		const char *what;
	} cases[] = {
		{ P2PBUF_SLOWIMP_NOT_REVOCABLE, REF_NOT_REVOCABLE,
		  "peer2peer without invalidate_mappings" },
		{ P2PBUF_SLOWIMP_NO_P2P, REF_NO_P2P,
		  "invalidate_mappings without peer2peer" },
		{ P2PBUF_SLOWIMP_NO_P2P | P2PBUF_SLOWIMP_NOT_REVOCABLE, REF_NO_P2P,
		  "neither" },
	};
	struct slow_env *e = &self->e;
	int before[REF_NR], after[REF_NR], i, r, fd;
	struct p2pbuf_slowimp_status st;
	char why[256];

	ASSERT_LE(0, slow_export(e, 1)) TH_LOG("EXPORT: %s", strerror(errno));
	for (i = 0; i < (int)ARRAY_SIZE(cases); i++) {
		ASSERT_EQ(0, refusal_counts(e->p.pbdf, before));
		fd = slow_open(why, sizeof(why));
		ASSERT_LE(0, fd) TH_LOG("%s", why);
		TH_LOG("refused: %s", cases[i].what);
		EXPECT_ERRNO(EOPNOTSUPP, slow_import(fd, e->buf, e->p.ibdf,
						     cases[i].flags, 0));
		close(fd);
		ASSERT_EQ(0, refusal_counts(e->p.pbdf, after));
		for (r = 0; r < REF_NR; r++)
			EXPECT_EQ(before[r] + (r == cases[i].reason), after[r])
				TH_LOG("%s: counter %d", cases[i].what, r);
	}

	/* Revocable and peer2peer: refused only for want of a route. */
	ASSERT_EQ(0, refusal_counts(e->p.pbdf, before));
	if (!e->routable) {
		EXPECT_ERRNO(EXDEV, slow_import(e->slow, e->buf, e->p.ibdf, 0, 0));
		ASSERT_EQ(0, refusal_counts(e->p.pbdf, after));
		EXPECT_EQ(before[REF_NO_ROUTE] + 1, after[REF_NO_ROUTE]);
		return;
	}
	ASSERT_EQ(0, slow_import(e->slow, e->buf, e->p.ibdf, 0, 0))
		TH_LOG("IMPORT: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(e->slow, P2PBUF_SLOWIMP_MAP));
	ASSERT_EQ(0, refusal_counts(e->p.pbdf, after));
	EXPECT_EQ(0, memcmp(before, after, sizeof(before)));
	/* It unmaps inside its callback: the revoke does not wait. */
	EXPECT_EQ(1, exp_revoke(e->p.exp, P2PBUF_EXP_REVOKE, 0, e->buf));
	ASSERT_EQ(0, slow_status(e->slow, &st));
	EXPECT_EQ(0U, st.state);
	EXPECT_EQ(1U, st.invalidations);
	EXPECT_ERRNO(ENODEV, ioctl(e->slow, P2PBUF_SLOWIMP_MAP));
}

/*
 * A buffer exported O_RDONLY may only be read by devices: the slow importer,
 * which always maps DMA_BIDIRECTIONAL, is refused with -EACCES and holds no
 * mapping; p2pbuf_importer, which maps a read-only import DMA_TO_DEVICE,
 * still maps it.
 */
TEST_F(slow, readonly_refuses_device_writes)
{
	struct slow_env *e = &self->e;
	struct p2pbuf_exp_range r = { 0, PAGE };
	struct p2pbuf_exp_export ex = {
		.argsz = sizeof(ex), .flags = P2PBUF_EXP_EXPORT_DEVICE_READONLY,
		.bar = e->p.bar, .open_flags = O_RDONLY | O_CLOEXEC,
		.nr_ranges = 1, .fd = -1, .ranges = (uintptr_t)&r,
	};
	struct p2pbuf_exp_attach_state att[2];
	struct p2pbuf_exp_query q;
	struct p2pbuf_imp_map m;
	__u32 i, mapped = 0;
	int h, rdonly, slow2;

	if (!e->routable)
		SKIP(return, "no p2pdma route from %s to %s (%s): nothing maps",
		     e->p.pbdf, e->p.ibdf, getenv("P2PBUF_EXPECT_MAP"));

	/* The file's access mode alone does not bind the importers' devices. */
	rdonly = exp_export(e->p.exp, e->p.bar, &r, 1, O_RDONLY | O_CLOEXEC, NULL);
	ASSERT_LE(0, rdonly) TH_LOG("EXPORT O_RDONLY: %s", strerror(errno));
	/* One import per slow importer file: a second file for this one. */
	slow2 = open(P2PBUF_SLOWIMP_NODE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, slow2) TH_LOG("%s: %s", P2PBUF_SLOWIMP_NODE, strerror(errno));
	EXPECT_EQ(0, slow_import(slow2, rdonly, e->p.ibdf, 0, 0))
		TH_LOG("IMPORT: %s", strerror(errno));
	EXPECT_EQ(0, ioctl(slow2, P2PBUF_SLOWIMP_MAP))
		TH_LOG("DMA_BIDIRECTIONAL map of an O_RDONLY export: %s", strerror(errno));
	close(slow2);		/* unmaps and detaches */
	close(rdonly);

	ASSERT_EQ(0, ioctl(e->p.exp, P2PBUF_EXP_EXPORT, &ex))
		TH_LOG("EXPORT DEVICE_READONLY: %s", strerror(errno));
	e->buf = ex.fd;
	ASSERT_EQ(0, slow_import(e->slow, e->buf, e->p.ibdf, 0, 0))
		TH_LOG("IMPORT: %s", strerror(errno));
	EXPECT_ERRNO(EACCES, ioctl(e->slow, P2PBUF_SLOWIMP_MAP));

	h = imp_import(e->p.imp, e->buf, 0);
	ASSERT_LE(0, h) TH_LOG("p2pbuf_importer IMPORT: %s", strerror(errno));
	EXPECT_EQ(0, imp_map(e->p.imp, h, &m))
		TH_LOG("p2pbuf_importer MAP (DMA_TO_DEVICE): %s", strerror(errno));

	/* Only p2pbuf_importer's mapping exists. */
	ASSERT_EQ(0, exp_query(e->p.exp, e->buf, att, ARRAY_SIZE(att), &q));
	ASSERT_EQ(2U, q.nr_attachments);
	for (i = 0; i < q.nr_attachments; i++)
		mapped += att[i].nr_mappings;
	EXPECT_EQ(1U, mapped);
	EXPECT_EQ(0, imp_handle_op(e->p.imp, P2PBUF_IMP_RELEASE, h));
}

/* A child that runs REVOKE or RESTORE of @buf through the shared @exp. */
static pid_t slow_fork_op(int exp, unsigned long cmd, int buf)
{
	pid_t pid = fork();

	if (!pid)
		_exit(exp_revoke(exp, cmd, 0, buf) < 0 ? 1 : 0);
	return pid;
}

/* Reap @pid within @ms: 1, or 0 if it is still there. */
static int slow_reap(pid_t pid, int ms)
{
	long long deadline = slow_now_ns() + ms * 1000000LL;

	do {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return 1;
		usleep(10000);
	} while (slow_now_ns() < deadline);
	return 0;
}

/*
 * Kill @pid, blocked in a wait of the exporter for @what, and check that
 * it dies promptly: a wait that a fatal signal cannot end would last until
 * the fence signals (or, at best, the 5 s report slice). Returns the ms it
 * took to die, or -1 if it did not.
 */
static long long slow_kill_blocked(struct __test_metadata *_metadata,
				   pid_t pid, const char *what)
{
	long long t0;

	/* Give it time to block, and check that it did. */
	usleep(500000);
	EXPECT_EQ(0, waitpid(pid, NULL, WNOHANG)) TH_LOG("%s did not block", what);
	t0 = slow_now_ns();
	kill(pid, SIGKILL);
	if (!slow_reap(pid, SLOW_PROMPT_MS)) {
		TH_LOG("%s: SIGKILL did not end the wait within %d ms",
		       what, SLOW_PROMPT_MS);
		return -1;
	}
	return slow_ms(slow_now_ns() - t0);
}

/*
 * The waits of a user task are killable: a REVOKE blocked on an unsignalled
 * fence dies at once on SIGKILL (not at the end of the 5 s report slice),
 * and so does the RESTORE that then has to finish the drain the REVOKE
 * left. Once the fence signals, a RESTORE finishes the drain and restores.
 */
TEST_F_TIMEOUT(slow, killable_waits, 60)
{
	struct slow_env *e = &self->e;
	struct p2pbuf_exp_query q;
	long long ms;
	pid_t pid;

	ASSERT_LE(0, slow_export(e, 1)) TH_LOG("EXPORT: %s", strerror(errno));
	e->timeline = slow_timeline();
	ASSERT_LE(0, e->timeline) TH_LOG("sw_sync: %s", strerror(-e->timeline));
	ASSERT_EQ(0, slow_attach_fence(e->timeline, 1, e->buf, 1));
	ASSERT_EQ(0, slow_bound_set(e->bound + SLOW_HOLD_BUDGET_MS));
	e->bound_raised = true;

	pid = slow_fork_op(e->p.exp, P2PBUF_EXP_REVOKE, e->buf);
	ASSERT_LT(0, pid);
	ms = slow_kill_blocked(_metadata, pid, "REVOKE");
	EXPECT_LE(0, ms);
	if (ms >= 0)
		TH_LOG("REVOKE died %lld ms after SIGKILL", ms);

	/* Revoked, still draining: RESTORE has to wait for the fence. */
	ASSERT_EQ(0, exp_query(e->p.exp, e->buf, NULL, 0, &q));
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_REVOKED, q.state);
	pid = slow_fork_op(e->p.exp, P2PBUF_EXP_RESTORE, e->buf);
	ASSERT_LT(0, pid);
	ms = slow_kill_blocked(_metadata, pid, "RESTORE");
	EXPECT_LE(0, ms);
	if (ms >= 0)
		TH_LOG("RESTORE died %lld ms after SIGKILL", ms);

	/* A RESTORE that could not be killed returns once the fence signals. */
	ASSERT_EQ(0, slow_signal(e->timeline));
	if (ms < 0)
		waitpid(pid, NULL, 0);
	ASSERT_EQ(0, exp_query(e->p.exp, e->buf, NULL, 0, &q));
	if (ms >= 0) {
		EXPECT_EQ((__u32)P2PBUF_EXP_BUF_REVOKED, q.state);
		EXPECT_EQ(1, exp_revoke(e->p.exp, P2PBUF_EXP_RESTORE, 0, e->buf));
		ASSERT_EQ(0, exp_query(e->p.exp, e->buf, NULL, 0, &q));
	}
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_LIVE, q.state);
}

/* One DMA that must give up on the buffer's fences; its time in ms. */
static long long slow_dma_timeout(struct __test_metadata *_metadata, int imp,
				  __u32 h, __u32 flags, void *data)
{
	long long t0 = slow_now_ns(), ms;

	EXPECT_EQ(-ETIMEDOUT, slow_dma(imp, h, flags, data, SLOW_DMA_LEN));
	ms = slow_ms(slow_now_ns() - t0);
	EXPECT_LE(SLOW_IMP_FENCE_MS, ms);
	EXPECT_GT(SLOW_IMP_FENCE_MS + SLOW_SLACK_MS, ms);
	return ms;
}

/*
 * p2pbuf_importer's DMA waits for the fences its access conflicts with, for
 * 10 s, then fails with -ETIMEDOUT; nothing else is affected.
 */
TEST_F_TIMEOUT(slow, dma_fence_timeout, 150)
{
	struct slow_env *e = &self->e;
	unsigned char a[SLOW_DMA_LEN], b[SLOW_DMA_LEN];
	struct p2pbuf_imp_map m;
	long long t0, ms;
	int h;

	if (!e->routable)
		SKIP(return, "no p2pdma route from %s to %s (%s): no DMA",
		     e->p.pbdf, e->p.ibdf, getenv("P2PBUF_EXPECT_MAP"));
	ASSERT_LE(0, slow_export(e, 1)) TH_LOG("EXPORT: %s", strerror(errno));
	h = imp_import(e->p.imp, e->buf, 0);
	ASSERT_LE(0, h) TH_LOG("IMPORT: %s", strerror(errno));
	ASSERT_EQ(0, imp_map(e->p.imp, h, &m)) TH_LOG("MAP: %s", strerror(errno));
	memset(a, 0x5a, sizeof(a));
	ASSERT_EQ(0, slow_dma(e->p.imp, h, P2PBUF_IMP_DMA_TO_BUF, a, SLOW_DMA_LEN));

	e->timeline = slow_timeline();
	ASSERT_LE(0, e->timeline) TH_LOG("sw_sync: %s", strerror(-e->timeline));

	/* A write fence: even a read must wait for it. */
	ASSERT_EQ(0, slow_attach_fence(e->timeline, 1, e->buf, 1));
	ms = slow_dma_timeout(_metadata, e->p.imp, h, P2PBUF_IMP_DMA_FROM_BUF, b);
	TH_LOG("read under a write fence: -ETIMEDOUT after %lld ms", ms);
	ASSERT_EQ(0, slow_signal(e->timeline));
	memset(b, 0, sizeof(b));
	ASSERT_EQ(0, slow_dma(e->p.imp, h, P2PBUF_IMP_DMA_FROM_BUF, b, SLOW_DMA_LEN));
	EXPECT_EQ(0, memcmp(a, b, SLOW_DMA_LEN));

	/* A read fence: reads go on at once, a write must wait. */
	ASSERT_EQ(0, slow_attach_fence(e->timeline, 2, e->buf, 0));
	t0 = slow_now_ns();
	memset(b, 0, sizeof(b));
	EXPECT_EQ(0, slow_dma(e->p.imp, h, P2PBUF_IMP_DMA_FROM_BUF, b, SLOW_DMA_LEN));
	EXPECT_GT(SLOW_SLACK_MS, slow_ms(slow_now_ns() - t0));
	EXPECT_EQ(0, memcmp(a, b, SLOW_DMA_LEN));
	memset(a, 0xa5, sizeof(a));
	ms = slow_dma_timeout(_metadata, e->p.imp, h, P2PBUF_IMP_DMA_TO_BUF, a);
	TH_LOG("write under a read fence: -ETIMEDOUT after %lld ms", ms);
	ASSERT_EQ(0, slow_signal(e->timeline));
	ASSERT_EQ(0, slow_dma(e->p.imp, h, P2PBUF_IMP_DMA_TO_BUF, a, SLOW_DMA_LEN));
	memset(b, 0, sizeof(b));
	ASSERT_EQ(0, slow_dma(e->p.imp, h, P2PBUF_IMP_DMA_FROM_BUF, b, SLOW_DMA_LEN));
	EXPECT_EQ(0, memcmp(a, b, SLOW_DMA_LEN));
	EXPECT_EQ(0, imp_handle_op(e->p.imp, P2PBUF_IMP_RELEASE, h));
}

TEST_HARNESS_MAIN
