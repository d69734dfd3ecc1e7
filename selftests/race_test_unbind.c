// SPDX-License-Identifier: GPL-2.0
/*
 * race_test, included by race_test.c: unbinding either device through sysfs
 * while two forked processes use it. Each cycle: the processes set up (phase
 * 0), the test unbinds while they keep calling (phase 1), then they check
 * what unbind promises while the test binds the device again (phase 2).
 */

/* Calls of each process while the device is being unbound, per cycle. */
#define UNBIND_CALLS	32

static void unbind_main(struct race_ctx *c, const char *bdf, const char *drv,
			unsigned int phase)
{
	char node[128];
	int ret;

	if (phase == 1) {
		ret = p2pbuf_pci_bind(bdf, "");
		if (ret)
			race_fail(c->log, "unbind %s: %s", bdf, strerror(-ret));
	} else if (phase == 2) {
		ret = p2pbuf_pci_bind(bdf, drv);
		node_path(node, sizeof(node), strcmp(drv, EXP_DRV) ?
			  "p2pbuf-imp-" : "p2pbuf-exp-", bdf);
		if (ret || access(node, F_OK))
			race_fail(c->log, "rebind %s to %s: %s", bdf, drv,
				  strerror(ret ? -ret : errno));
	}
}

/*
 * exporter_unbind_while_mapping: each process exports a buffer, imports it
 * in its own importer file and maps it; then unmaps, maps, queries and
 * checks its import while the exporter is unbound. Afterwards the import is
 * unmapped and invalidated once, MAP is -ENODEV, every ioctl on the old
 * exporter file is -ENODEV. Where p2pdma cannot route, the import is
 * refused: the processes import (-EXDEV, then -ENODEV once revoked),
 * export, query and ask INFO while the exporter is unbound.
 */
static void exp_unbind_phase0(struct race_ctx *c, unsigned int i)
{
	struct p2pbuf_imp_map m;
	int h;

	if (c->imp[1] < 0)
		c->imp[1] = open_node(c->imp_node);
	c->exp = open_node(c->exp_node);
	c->buf = c->exp < 0 ? -1 : new_buf(c->exp);
	h = c->buf < 0 || c->imp[1] < 0 ? -1 : imp_import(c->imp[1], c->buf, i % 2);
	/* 0 is never a handle: what the later calls use after a failure. */
	c->handle[1] = 0;
	if (!c->can_map) {
		if (c->buf < 0 || c->imp[1] < 0 || h != -1 || errno != EXDEV)
			race_fail(c->log, "setup: open/EXPORT/IMPORT (want EXDEV): %d, %s",
				  h, strerror(errno));
		return;
	}
	if (h > 0)
		c->handle[1] = h;
	if (h <= 0 || imp_map(c->imp[1], h, &m))
		race_fail(c->log, "setup: open/EXPORT/IMPORT/MAP: %s", strerror(errno));
}

/* Phase 1 without a route: what needs no attachment, and refused imports. */
static void exp_unbind_phase1_refused(struct race_ctx *c, unsigned int j)
{
	struct p2pbuf_exp_query q;
	struct p2pbuf_exp_info info;
	int buf;

	switch (j % 4) {
	case 0:
		/* Refused for the route, or for the revoke of the unbind. */
		race_check(c->log, "IMPORT",
			   race_err(imp_import(c->imp[1], c->buf,
					       j % 8 ? 0 : P2PBUF_IMP_IMPORT_PINNED)),
			   RACE_OK(EXDEV, ENODEV));
		break;
	case 1:
		buf = new_buf(c->exp);
		race_check(c->log, "EXPORT", race_err(buf), RACE_OK(0, ENODEV));
		if (buf >= 0)
			close(buf);
		break;
	case 2:
		race_check(c->log, "QUERY", race_err(exp_query(c->exp, c->buf, NULL, 0, &q)),
			   RACE_OK(0, ENODEV));
		break;
	default:
		race_check(c->log, "INFO", race_err(exp_info(c->exp, &info)),
			   RACE_OK(0, ENODEV));
	}
}

static void exp_unbind_phase1(struct race_ctx *c)
{
	struct p2pbuf_exp_query q;
	struct p2pbuf_exp_info info;
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_map m;
	int j;

	for (j = 0; j < UNBIND_CALLS; j++) {
		if (!c->can_map) {
			exp_unbind_phase1_refused(c, j);
			continue;
		}
		switch (j % 4) {
		case 0:
			race_check(c->log, "UNMAP",
				   race_err(imp_handle_op(c->imp[1], P2PBUF_IMP_UNMAP,
							  c->handle[1])),
				   RACE_OK(0, ENXIO));
			break;
		case 1:
			race_check(c->log, "MAP", race_err(imp_map(c->imp[1], c->handle[1], &m)),
				   RACE_OK(0, ENODEV));
			break;
		case 2:
			check_status(c, c->imp[1], c->handle[1], true, &st);
			break;
		default:
			race_check(c->log, "QUERY",
				   race_err(exp_query(c->exp, c->buf, NULL, 0, &q)),
				   RACE_OK(0, ENODEV));
			race_check(c->log, "INFO", race_err(exp_info(c->exp, &info)),
				   RACE_OK(0, ENODEV));
		}
	}
}

static void exp_unbind_phase2(struct race_ctx *c)
{
	struct p2pbuf_exp_info info;
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_map m;
	__u64 last;
	int n, foreign;

	if (!c->can_map) {
		/* The unbind revoked the buffer: refused for that now. */
		race_check(c->log, "IMPORT after unbind",
			   race_err(imp_import(c->imp[1], c->buf, 0)), RACE_OK(ENODEV));
		n = drain_events(c->imp[1], 0, &last, &foreign);
		if (n)
			race_fail(c->log, "after unbind: %d events without an import", n);
		goto exporter_dead;
	}
	if (check_status(c, c->imp[1], c->handle[1], true, &st) >= 0 &&
	    (st.state & (P2PBUF_IMP_STATE_MAPPED | P2PBUF_IMP_STATE_INVALIDATED)) !=
	    P2PBUF_IMP_STATE_INVALIDATED)
		race_fail(c->log, "after unbind: import state %#x", st.state);
	if (st.invalidations != 1)
		race_fail(c->log, "after unbind: %llu invalidations, want 1",
			  (unsigned long long)st.invalidations);
	n = drain_events(c->imp[1], c->handle[1], &last, &foreign);
	if (n != 1 || foreign)
		race_fail(c->log, "after unbind: %d events, want 1", n);
	race_check(c->log, "MAP after unbind",
		   race_err(imp_map(c->imp[1], c->handle[1], &m)), RACE_OK(ENODEV));
	race_check(c->log, "RELEASE",
		   race_err(imp_handle_op(c->imp[1], P2PBUF_IMP_RELEASE, c->handle[1])),
		   RACE_OK(0));
exporter_dead:
	race_check(c->log, "INFO after unbind", race_err(exp_info(c->exp, &info)),
		   RACE_OK(ENODEV));
	race_check(c->log, "EXPORT after unbind", race_err(new_buf(c->exp)),
		   RACE_OK(ENODEV));
	race_check(c->log, "RESTORE after unbind",
		   race_err(exp_revoke(c->exp, P2PBUF_EXP_RESTORE, 0, c->buf)),
		   RACE_OK(ENODEV));
	close(c->buf);
	close(c->exp);
	c->buf = -1;
	c->exp = -1;
}

static void exp_unbind_work(void *ctx, unsigned int w, unsigned int phase,
			    unsigned int i)
{
	if (phase == 0)
		exp_unbind_phase0(ctx, i);
	else if (phase == 1)
		exp_unbind_phase1(ctx);
	else
		exp_unbind_phase2(ctx);
}

static void exp_unbind_main(void *ctx, unsigned int phase, unsigned int i)
{
	struct race_ctx *c = ctx;

	unbind_main(c, c->pbdf, EXP_DRV, phase);
}

/*
 * Run one unbind race: self->unbinds cycles of three phases, two forked
 * workers calling @work_fn while the main process runs @main_fn.
 */
static void unbind_race(struct __test_metadata *_metadata, RACE_SELF *self,
			void (*main_fn)(void *ctx, unsigned int phase,
					unsigned int i),
			void (*work_fn)(void *ctx, unsigned int worker,
					unsigned int phase, unsigned int i),
			const char *what)
{
	struct race_ctx *c = &self->c;

	/* The workers open their own files; the fixture's would go stale. */
	close(c->exp);
	close(c->imp[0]);
	c->exp = -1;
	c->imp[0] = -1;
	self->run->iters = self->unbinds;
	self->run->phases = 3;
	self->run->nr = 2;
	self->run->fork = true;
	self->run->main = main_fn;
	self->run->work = work_fn;
	race_run_go(self->run);
	race_report(_metadata, self, what);
	ksft_print_msg("  %u calls per process per cycle\n", UNBIND_CALLS);
}

TEST_F_TIMEOUT(race, exporter_unbind_while_mapping, 900)
{
	unbind_race(_metadata, self, exp_unbind_main, exp_unbind_work,
		    "exporter unbind while importers map (cycles)");
}

/*
 * importer_unbind_while_revoking: each process has its own exporter file
 * and buffer; per cycle it imports the buffer in a new importer file and
 * maps it, then revokes, maps, restores and maps again while the importer
 * is unbound. Afterwards the buffer has no attachment, the importer file
 * answers -ENODEV, poll() reports EPOLLHUP and read() ends in -ENODEV.
 * Where p2pdma cannot route, the process imports and maps a udmabuf of its
 * own instead, unmaps, maps and asks STATUS of it while the importer is
 * unbound, and revokes and restores its buffer, which has no attachment.
 */

/* Phase 1 without a route: a udmabuf import, and a buffer nobody attached. */
static void imp_unbind_phase1_udmabuf(struct race_ctx *c, unsigned int j)
{
	struct p2pbuf_imp_status st;
	struct p2pbuf_exp_query q;
	struct p2pbuf_imp_map m;
	int n;

	switch (j % 4) {
	case 0:
	case 2:
		n = exp_revoke(c->exp, j % 4 ? P2PBUF_EXP_RESTORE : P2PBUF_EXP_REVOKE,
			       0, c->buf);
		if (n != 1)
			race_fail(c->log, "%s: %d (%s), want count 1",
				  j % 4 ? "RESTORE" : "REVOKE", n, strerror(errno));
		if (!race_check(c->log, "QUERY",
				race_err(exp_query(c->exp, c->buf, NULL, 0, &q)),
				RACE_OK(0)) && q.nr_attachments)
			race_fail(c->log, "QUERY: %u attachments", q.nr_attachments);
		break;
	case 1:
		race_check(c->log, "UNMAP",
			   race_err(imp_handle_op(c->imp[1], P2PBUF_IMP_UNMAP, c->handle[1])),
			   RACE_OK(0, ENXIO, ENODEV));
		break;
	default:
		race_check(c->log, "MAP", race_err(imp_map(c->imp[1], c->handle[1], &m)),
			   RACE_OK(0, EBUSY, ENODEV));
		race_check(c->log, "STATUS",
			   race_err(imp_status(c->imp[1], c->handle[1], &st)),
			   RACE_OK(0, ENODEV));
	}
}

static void imp_unbind_phase1(struct race_ctx *c)
{
	struct p2pbuf_imp_status st;
	struct p2pbuf_exp_query q;
	struct p2pbuf_imp_map m;
	int j, n;

	for (j = 0; j < UNBIND_CALLS; j++) {
		if (!c->can_map) {
			imp_unbind_phase1_udmabuf(c, j);
			continue;
		}
		switch (j % 4) {
		case 0:
		case 2:
			n = exp_revoke(c->exp, j % 4 ? P2PBUF_EXP_RESTORE :
				       P2PBUF_EXP_REVOKE, 0, c->buf);
			if (n != 1)
				race_fail(c->log, "%s: %d (%s), want count 1",
					  j % 4 ? "RESTORE" : "REVOKE", n, strerror(errno));
			if (!race_check(c->log, "QUERY",
					race_err(exp_query(c->exp, c->buf, NULL, 0, &q)),
					RACE_OK(0)) && q.nr_attachments > 1)
				race_fail(c->log, "QUERY: %u attachments", q.nr_attachments);
			break;
		case 1:
			/* Revoked, or the importer is gone. */
			race_check(c->log, "MAP", race_err(imp_map(c->imp[1], c->handle[1], &m)),
				   RACE_OK(ENODEV));
			break;
		default:
			race_check(c->log, "MAP", race_err(imp_map(c->imp[1], c->handle[1], &m)),
				   RACE_OK(0, ENODEV));
			race_check(c->log, "STATUS",
				   race_err(imp_status(c->imp[1], c->handle[1], &st)),
				   RACE_OK(0, ENODEV));
		}
	}
}

static void imp_unbind_phase2(struct race_ctx *c)
{
	struct pollfd pfd = { .events = POLLIN };
	struct p2pbuf_imp_event ev;
	struct p2pbuf_imp_status st;
	struct p2pbuf_exp_query q;
	ssize_t n;
	int k;

	if (!race_check(c->log, "QUERY", race_err(exp_query(c->exp, c->buf, NULL, 0, &q)),
			RACE_OK(0)) &&
	    (q.nr_attachments || q.state != P2PBUF_EXP_BUF_LIVE))
		race_fail(c->log, "after importer unbind: %u attachments, state %u",
			  q.nr_attachments, q.state);
	race_check(c->log, "STATUS after unbind",
		   race_err(imp_status(c->imp[1], c->handle[1], &st)), RACE_OK(ENODEV));
	pfd.fd = c->imp[1];
	if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLHUP))
		race_fail(c->log, "poll after importer unbind: revents %#x", pfd.revents);
	/* Queued events stay readable, then -ENODEV (at most 64 queued). */
	for (k = 0; k <= 64; k++) {
		n = read(c->imp[1], &ev, sizeof(ev));
		if (n != sizeof(ev))
			break;
	}
	race_check(c->log, "read after unbind", race_err(n), RACE_OK(ENODEV));
	close(c->imp[1]);
	c->imp[1] = -1;
}

static void imp_unbind_work(void *ctx, unsigned int w, unsigned int phase,
			    unsigned int i)
{
	struct race_ctx *c = ctx;
	struct p2pbuf_imp_map m;
	int h;

	if (phase == 1) {
		imp_unbind_phase1(c);
		return;
	}
	if (phase == 2) {
		imp_unbind_phase2(c);
		return;
	}
	if (c->exp < 0) {
		c->exp = open_node(c->exp_node);
		c->buf = c->exp < 0 ? -1 : new_buf(c->exp);
	}
	/* Without a route, a udmabuf of this process is imported instead. */
	if (!c->can_map && c->fbuf < 0)
		c->fbuf = foreign_dmabuf();
	c->imp[1] = open_node(c->imp_node);
	h = c->buf < 0 || c->imp[1] < 0 || (!c->can_map && c->fbuf < 0) ? -1 :
	    imp_import(c->imp[1], c->can_map ? c->buf : c->fbuf, i % 2);
	/* 0 is never a handle: what the later calls use after a failure. */
	c->handle[1] = 0;
	if (h > 0)
		c->handle[1] = h;
	if (h <= 0 || imp_map(c->imp[1], h, &m))
		race_fail(c->log, "setup: open/EXPORT/IMPORT/MAP: %s", strerror(errno));
}

static void imp_unbind_main(void *ctx, unsigned int phase, unsigned int i)
{
	struct race_ctx *c = ctx;

	unbind_main(c, c->ibdf, IMP_DRV, phase);
}

TEST_F_TIMEOUT(race, importer_unbind_while_revoking, 900)
{
	unbind_race(_metadata, self, imp_unbind_main, imp_unbind_work,
		    "importer unbind while the exporter revokes (cycles)");
}
