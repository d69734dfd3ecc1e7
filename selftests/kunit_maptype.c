// SPDX-License-Identifier: GPL-2.0
/*
 * kunit_maptype: the KUnit suites of both modules' map-type rules
 * (exporter/maptype_kunit.c, importer/maptype_kunit.c), run in the lab's
 * kernel; a test fails unless every KUnit case of its suite passed.
 *
 * Each test loads its KUnit module, p2pbuf_<side>_kunit.ko from
 * $P2PBUF_MODDIR (default: ../modules next to this program, the lab's build
 * layout), which runs the suite at load; a module that is loaded already
 * has its suite run again through /sys/kernel/debug/kunit/<suite>/run.
 * The suite's KTAP, /sys/kernel/debug/kunit/<suite>/results, is copied
 * into this program's output as diagnostics and checked: the suite's own
 * line is "ok", the cases fill the suite's plan, and no case or parameter
 * failed or was skipped. The modules stay loaded: they need no symbol of
 * the drivers, and a later run (igt's, chrooted away from the build tree)
 * can run them again.
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <sys/syscall.h>

#include "p2pbuf_test.h"

#define KUNIT_DEBUGFS	"/sys/kernel/debug/kunit"

static char found_ko[PATH_MAX];
static const char *wanted_ko;

static int find_ko_cb(const char *path, const struct stat *st, int type,
		      struct FTW *ftw)
{
	if (type == FTW_F && !strcmp(path + ftw->base, wanted_ko)) {
		snprintf(found_ko, sizeof(found_ko), "%s", path);
		return 1;
	}
	return 0;
}

/* Path of @module.ko in the module build directory, or NULL. */
static const char *find_module(const char *module)
{
	static char name[128], exe[PATH_MAX], dir[PATH_MAX + 16];
	const char *moddir = p2pbuf_env("P2PBUF_MODDIR");
	ssize_t n;

	if (!moddir) {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n < 0)
			return NULL;
		exe[n] = '\0';
		snprintf(dir, sizeof(dir), "%s/../modules", dirname(exe));
		moddir = dir;
	}
	snprintf(name, sizeof(name), "%s.ko", module);
	wanted_ko = name;
	found_ko[0] = '\0';
	if (nftw(moddir, find_ko_cb, 16, FTW_PHYS) != 1)
		return NULL;
	return found_ko;
}

/*
 * Run @suite: load @module, or re-run the suite if it is loaded. Returns 0,
 * or -errno with *@why saying which step failed.
 */
static int run_suite(const char *module, const char *suite, const char **why)
{
	char path[256];
	const char *ko;
	int fd, ret;

	snprintf(path, sizeof(path), KUNIT_DEBUGFS "/%s/run", suite);
	if (access(path, F_OK) == 0) {
		*why = "writing the suite's debugfs run file";
		return p2pbuf_sysfs_write(path, "1");
	}

	ko = find_module(module);
	if (!ko) {
		/* The lab builds it (P2PBUF_KUNIT=m); P2PBUF_MODDIR finds it. */
		*why = "finding the module in $P2PBUF_MODDIR";
		return -ENOENT;
	}
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*why = "opening the module";
		return -errno;
	}
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	*why = "loading the module";
	return ret;
}

struct kunit_tally {
	int plan;	/* the suite's plan: number of cases */
	int cases;	/* results at case level */
	int results;	/* every result line: cases, parameters, the suite */
	int failed;	/* "not ok" at any level */
	int skipped;	/* "# SKIP" at any level */
	int suite_ok;	/* the suite's own line: 1 ok, 0 not ok, -1 absent */
};

/* Copy the suite's KTAP into our output and count what it says. */
static int read_results(const char *suite, struct kunit_tally *t)
{
	char path[256], line[1024];
	size_t indent;
	FILE *f;
	char *s;

	memset(t, 0, sizeof(*t));
	t->plan = -1;
	t->suite_ok = -1;
	snprintf(path, sizeof(path), KUNIT_DEBUGFS "/%s/results", suite);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		ksft_print_msg("kunit: %s\n", line);
		indent = strspn(line, " ");
		s = line + indent;
		/* Level 0: the wrapper; 4: the suite's cases; 8: parameters. */
		if (indent == 4 && t->plan < 0 && sscanf(s, "1..%d", &t->plan) == 1)
			continue;
		if (strncmp(s, "ok ", 3) && strncmp(s, "not ok ", 7))
			continue;
		t->results++;
		if (s[0] == 'n')
			t->failed++;
		if (strstr(s, "# SKIP"))
			t->skipped++;
		if (indent == 4)
			t->cases++;
		if (indent == 0)
			t->suite_ok = s[0] == 'o';
	}
	fclose(f);
	return 0;
}

static void check_suite(struct __test_metadata *_metadata, const char *module,
			const char *suite)
{
	struct kunit_tally t;
	const char *why = "";
	int ret;

	ASSERT_EQ(0, p2pbuf_debugfs_mount());
	ret = run_suite(module, suite, &why);
	if (ret)
		TH_LOG("%s: %s: %s", suite, why, strerror(-ret));
	ASSERT_EQ(0, ret);
	ret = read_results(suite, &t);
	if (ret)
		TH_LOG("%s: no results in " KUNIT_DEBUGFS ": %s", suite,
		       strerror(-ret));
	ASSERT_EQ(0, ret);
	ksft_print_msg("%s: %d cases of %d planned, %d results, %d failed, %d skipped\n",
		       suite, t.cases, t.plan, t.results, t.failed, t.skipped);
	EXPECT_EQ(1, t.suite_ok);
	EXPECT_LT(0, t.plan);
	EXPECT_EQ(t.plan, t.cases);
	EXPECT_EQ(0, t.failed);
	EXPECT_EQ(0, t.skipped);
}

TEST(exporter_rules)
{
	check_suite(_metadata, "p2pbuf_exporter_kunit", "p2pbuf_exp_maptype");
}

TEST(importer_rules)
{
	check_suite(_metadata, "p2pbuf_importer_kunit", "p2pbuf_imp_maptype");
}

TEST_HARNESS_MAIN
