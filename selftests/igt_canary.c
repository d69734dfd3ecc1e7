// SPDX-License-Identifier: GPL-2.0
/*
 * igt_canary: the igt harness self-test's target (lab/igt-selftest.sh),
 * never part of the normal run. One test passes and one fails on purpose;
 * through igt_adapter and igt_runner the failure must reach results.json
 * and fail make check. A third hangs when asked to, for
 * lab/igt_host_selftest.py: stopped as igt_runner stops a test on a
 * timeout, igt_adapter must leave no process behind.
 */
#include "kselftest_harness.h"

TEST(canary_pass)
{
	ASSERT_EQ(1, 1);
}

TEST(deliberate_failure)
{
	TH_LOG("p2pbuf igt self-test: this subtest fails on purpose");
	ASSERT_EQ(0, 1);
}

/*
 * Last: lab/igt-selftest.sh offers igt only the first two subtests. The
 * test process hangs, and so does a child of its own, as the suites'
 * helper processes would; with P2PBUF_IGT_CANARY_HANG=write both write a
 * line to stdout every 10 ms meanwhile.
 */
TEST(hang_on_request)
{
	const char *how = getenv("P2PBUF_IGT_CANARY_HANG");

	if (!how)
		return;
	ASSERT_LE(0, fork());
	while (!strcmp(how, "write")) {
		printf("# hang_on_request: still here\n");
		fflush(stdout);
		usleep(10000);
	}
	pause();
}

TEST_HARNESS_MAIN
