// SPDX-License-Identifier: GPL-2.0
/*
 * race_test, included by race_test.c: an IMPORT (the exporter's .attach)
 * that is still looking up its p2pdma route while the exporter is unbound.
 *
 * After remove() returns, devres frees the provider's p2pdma state, and
 * pci_p2pdma_distance() stores into it without a synchronize_rcu() on the
 * other side. .attach must therefore reach p2pdma only under the buffer's
 * resv lock with the buffer not revoked: remove() revokes every buffer
 * under that lock before it returns, so it waits for the lookup. The
 * exporter's test-only test_attach_delay_ms parameter holds .attach for
 * ATTACH_DELAY_MS just before the lookup; the test unbinds meanwhile. The
 * exporter warns "p2pdma reached after remove()" if the lookup comes after
 * remove(): that line in the kernel log fails the test, and unbind must
 * have waited for the attach.
 */

#define ATTACH_DELAY_MS		400
#define ATTACH_DELAY_PARAM	"/sys/module/p2pbuf_exporter/parameters/test_attach_delay_ms"
#define ATTACH_UNBIND_AFTER_MS	100
#define ATTACH_CYCLES		3
#define ATTACH_MARK		"p2pdma reached after remove()"

/* Kernel log records written since @fd was opened that contain @word. */
static int kmsg_count(int fd, const char *word)
{
	char rec[2048];
	ssize_t n;
	int hits = 0;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on */
		if (n <= 0)
			return hits;
		rec[n] = '\0';
		hits += !!strstr(rec, word);
	}
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

TEST_F_TIMEOUT(race, attach_while_unbind, 120)
{
	struct race_ctx *c = &self->c;
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_map m;
	struct timespec t0;
	char param[16];
	int kmsg, i, h, status, buf, late = 0;
	long unbind_ms;
	pid_t pid;

	if (!c->can_map)
		SKIP(return, NO_ROUTE);
	if (access(ATTACH_DELAY_PARAM, W_OK))
		SKIP(return, "%s: %s (an exporter without the test-only knob)",
		     ATTACH_DELAY_PARAM, strerror(errno));
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, kmsg) TH_LOG("/dev/kmsg: %s", strerror(errno));
	lseek(kmsg, 0, SEEK_END);

	for (i = 0; i < ATTACH_CYCLES; i++) {
		if (c->exp < 0)
			c->exp = open_node(c->exp_node);
		ASSERT_LE(0, c->exp);
		buf = new_buf(c->exp);
		ASSERT_LE(0, buf) TH_LOG("EXPORT: %s", strerror(errno));
		snprintf(param, sizeof(param), "%d", ATTACH_DELAY_MS);
		ASSERT_EQ(0, p2pbuf_sysfs_write(ATTACH_DELAY_PARAM, param));

		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			/*
			 * IMPORT sleeps in .attach and may succeed or see
			 * ENODEV; a MAP right after a successful IMPORT may
			 * win the resv lock before unbind's revoke, which then
			 * invalidates it. Exit with the handle, 0 if refused.
			 */
			h = imp_import(c->imp[0], buf, i % 2);
			if (h <= 0)
				_exit(errno == ENODEV ? 0 : 255);
			if (imp_map(c->imp[0], h, &m) && errno != ENODEV)
				_exit(255);
			_exit(h < 255 ? h : 255);
		}
		usleep(ATTACH_UNBIND_AFTER_MS * 1000);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		EXPECT_EQ(0, p2pbuf_pci_bind(c->pbdf, ""));
		unbind_ms = ms_since(&t0);
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_EQ(0, p2pbuf_sysfs_write(ATTACH_DELAY_PARAM, "0"));
		ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 255)
			TH_LOG("cycle %d: importer exit status %#x", i, status);
		if (WEXITSTATUS(status)) {
			/* After unbind nothing is mapped, and nothing can be. */
			h = WEXITSTATUS(status);
			ASSERT_EQ(0, imp_status(c->imp[0], h, &st));
			EXPECT_EQ(0U, st.state & P2PBUF_IMP_STATE_MAPPED)
				TH_LOG("cycle %d: still mapped after unbind", i);
			EXPECT_EQ(-1, imp_map(c->imp[0], h, &m));
			EXPECT_EQ(ENODEV, errno);
		}
		ksft_print_msg("cycle %d: IMPORT %s, unbind took %ld ms, .attach slept %d ms\n",
			       i, WEXITSTATUS(status) ? "succeeded" : "refused",
			       unbind_ms, ATTACH_DELAY_MS);
		/*
		 * An attach that got past its revoke check holds the resv
		 * lock through the lookup: remove() had to wait for it.
		 */
		if (WEXITSTATUS(status))
			EXPECT_LE(ATTACH_DELAY_MS - ATTACH_UNBIND_AFTER_MS - 50, unbind_ms);

		late += kmsg_count(kmsg, ATTACH_MARK);
		close(buf);
		close(c->exp);
		c->exp = -1;
		ASSERT_EQ(0, ensure_bound(c->pbdf, EXP_DRV));
	}
	close(kmsg);
	EXPECT_EQ(0, late) TH_LOG("the exporter reached p2pdma after remove() %d time(s)",
				  late);
}
