// SPDX-License-Identifier: GPL-2.0
/*
 * lifecycle_test: p2pbuf_exporter across the provider's real lifecycle.
 *
 * A buffer of two BAR ranges is exported, imported by p2pbuf_importer,
 * mapped, and written by the initiator's DMA engine; then the provider goes
 * through one event that stops its BAR from decoding: a reset through sysfs,
 * an AER error injected at the port above it (through the QEMU monitor,
 * relayed by lab/vm.sh), system suspend with pm_test=devices, runtime
 * suspend, memory decode switched off in the command register (and a fatal
 * AER error twice in a row, which must recover both times). Each test
 * checks that the buffer was revoked around the event (no mapping left, the
 * importer told, map refused while it lasts), that it is live again after,
 * that the importer was told it may map again, and that the DMA engine
 * reads back what it wrote before and writes again: the data is correct
 * after the restore. The map type after the restore must be the topology's.
 *
 * Where p2pdma has no route (intel) nothing can be imported: the tests
 * check the exporter's side only (QUERY's state and revoke reasons).
 *
 * Needs the lab: P2PBUF_PROVIDER_BDF bound to p2pbuf_exporter with BAR 2 of
 * at least 2 MiB, P2PBUF_INITIATOR_BDF bound to p2pbuf_importer,
 * P2PBUF_EXPECT_MAP; for AER P2PBUF_MONITOR and P2PBUF_AER_PORT.
 */
#define _GNU_SOURCE
#include <linux/p2pbuf_exporter.h>

#include "importer_lib.h"

#define BAR		2
#define MAP_LEN		(2 * 1024 * 1024U)
#define R0_OFF		0U
#define R1_OFF		(1024 * 1024U)
#define R_LEN		(64 * 1024U)
#define DATA_OFF	(R_LEN - 100)	/* across the two ranges */
#define DATA_LEN	300
#define WAIT_MS		20000

FIXTURE(lc) {
	int exp;
	int imp;
	int buf;
	__u32 h;
	int expect;
	bool can_map;
	bool engine;
	char pbdf[64];
	char ibdf[64];
	unsigned char *bar;
	unsigned char data[DATA_LEN];
	__u32 revokes;
	__u64 invalidations;
};

#define LC_SELF FIXTURE_DATA(lc)

static char *dev_attr(char *path, size_t len, const char *bdf, const char *attr)
{
	snprintf(path, len, IMP_SYSFS_PCI "/%s/%s", bdf, attr);
	return path;
}

static int read_attr(const char *bdf, const char *attr, char *val, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	fd = open(dev_attr(path, sizeof(path), bdf, attr), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, val, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	val[n] = '\0';
	val[strcspn(val, "\n")] = '\0';
	return 0;
}

static int write_attr(const char *bdf, const char *attr, const char *val)
{
	char path[PATH_MAX];

	return p2pbuf_sysfs_write(dev_attr(path, sizeof(path), bdf, attr), val);
}

static int lc_query(int exp, int buf, struct p2pbuf_exp_query *q,
		    struct p2pbuf_exp_attach_state *att, __u32 cap)
{
	memset(q, 0, sizeof(*q));
	q->argsz = sizeof(*q);
	q->fd = buf;
	q->nr_attachments = cap;
	q->attachments = (uintptr_t)att;
	return imp_errno(ioctl(exp, P2PBUF_EXP_QUERY, q));
}

static int lc_revoke(int exp, unsigned long cmd, int buf)
{
	struct p2pbuf_exp_revoke arg = { .argsz = sizeof(arg), .fd = buf };

	return ioctl(exp, cmd, &arg) ? -errno : (int)arg.count;
}

static int lc_export(int exp)
{
	struct p2pbuf_exp_range ranges[2] = {
		{ .offset = R0_OFF, .length = R_LEN },
		{ .offset = R1_OFF, .length = R_LEN },
	};
	struct p2pbuf_exp_export arg = {
		.argsz = sizeof(arg), .bar = BAR,
		.open_flags = O_RDWR | O_CLOEXEC, .nr_ranges = 2,
		.ranges = (uintptr_t)ranges,
	};

	return ioctl(exp, P2PBUF_EXP_EXPORT, &arg) ? -errno : arg.fd;
}

/* BAR offset of byte @off of the buffer. */
static size_t bar_off(__u64 off)
{
	return off < R_LEN ? R0_OFF + off : R1_OFF + (off - R_LEN);
}

static size_t bar_diff(const unsigned char *bar, const unsigned char *data)
{
	size_t i, diff = 0;

	for (i = 0; i < DATA_LEN; i++)
		diff += bar[bar_off(DATA_OFF + i)] != data[i];
	return diff;
}

/* Wait until the buffer's state is @state; its QUERY in @q. */
static int wait_state(struct __test_metadata *_metadata, LC_SELF *self,
		      __u32 state, struct p2pbuf_exp_query *q)
{
	long long end = imp_now_ms() + WAIT_MS;

	do {
		if (lc_query(self->exp, self->buf, q, NULL, 0))
			return -errno;
		if (q->state == state)
			return 0;
		usleep(50 * 1000);
	} while (imp_now_ms() < end);
	return -ETIMEDOUT;
}

/* The importer's invalidation count. */
static __u64 invalidations(LC_SELF *self)
{
	struct p2pbuf_imp_status st;

	if (!self->can_map || imp_status(self->imp, self->h, &st))
		return 0;
	return st.invalidations;
}

/* DMA @seed's pattern into the buffer; check it through the BAR. */
static void dma_write(struct __test_metadata *_metadata, LC_SELF *self,
		      unsigned int seed)
{
	imp_pattern(self->data, DATA_LEN, seed);
	ASSERT_EQ(0, imp_dma(self->imp, self->h, P2PBUF_IMP_DMA_TO_BUF, DATA_OFF,
			     self->data, DATA_LEN));
	EXPECT_EQ(0U, bar_diff(self->bar, self->data));
}

FIXTURE_SETUP(lc)
{
	const char *p = p2pbuf_env("P2PBUF_PROVIDER_BDF");
	const char *e = p2pbuf_env("P2PBUF_EXPECT_MAP");
	struct p2pbuf_imp_info iinfo;
	struct p2pbuf_imp_map m;
	struct p2pbuf_exp_query q;
	char path[PATH_MAX];
	int fd;

	self->exp = -1;
	self->imp = -1;
	self->buf = -1;
	self->bar = MAP_FAILED;
	if (!p || !e)
		SKIP(return, "not in the lab: P2PBUF_PROVIDER_BDF or P2PBUF_EXPECT_MAP unset");
	self->expect = imp_map_type_parse(e);
	ASSERT_LE(0, self->expect) TH_LOG("unknown P2PBUF_EXPECT_MAP %s", e);
	self->can_map = self->expect != P2PBUF_MAP_NOT_SUPPORTED;
	snprintf(self->pbdf, sizeof(self->pbdf), "%s", p);
	snprintf(path, sizeof(path), "/dev/p2pbuf-exp-%s", p);
	self->exp = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->exp) TH_LOG("%s: %s", path, strerror(errno));
	self->imp = imp_open(self->ibdf, sizeof(self->ibdf));
	ASSERT_LE(0, self->imp) TH_LOG("importer: %s", strerror(-self->imp));
	ASSERT_EQ(0, imp_info(self->imp, &iinfo));
	self->engine = iinfo.engine[0];

	fd = open(dev_attr(path, sizeof(path), p, "resource2"), O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
	self->bar = mmap(NULL, MAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	ASSERT_NE(MAP_FAILED, self->bar);

	self->buf = lc_export(self->exp);
	ASSERT_LE(0, self->buf) TH_LOG("EXPORT: %s", strerror(-self->buf));
	ASSERT_EQ(0, lc_query(self->exp, self->buf, &q, NULL, 0));
	ASSERT_EQ((__u32)P2PBUF_EXP_BUF_LIVE, q.state) TH_LOG("reasons %#x", q.revoke_reasons);
	self->revokes = q.revokes;
	if (!self->can_map)
		return;
	ASSERT_EQ(0, imp_import(self->imp, self->buf, 0, &self->h, NULL));
	ASSERT_EQ(0, imp_map(self->imp, self->h, &m, NULL, 0));
	EXPECT_MAP_TYPE(self->expect, m.map_type);
	if (self->engine)
		dma_write(_metadata, self, 1);
	imp_drain_events(self->imp);
	self->invalidations = invalidations(self);
}

FIXTURE_TEARDOWN(lc)
{
	if (self->bar != MAP_FAILED)
		munmap(self->bar, MAP_LEN);
	if (self->buf >= 0)
		close(self->buf);
	if (self->imp >= 0)
		close(self->imp);
	if (self->exp >= 0)
		close(self->exp);
}

/*
 * While the event lasts: revoked with @reason, nothing mapped, the
 * importer told and refused.
 */
static void expect_revoked(struct __test_metadata *_metadata,
			   LC_SELF *self, __u32 reason)
{
	struct p2pbuf_exp_attach_state att[2];
	struct p2pbuf_imp_status st;
	struct p2pbuf_exp_query q;
	struct p2pbuf_imp_map m;

	ASSERT_EQ(0, wait_state(_metadata, self, P2PBUF_EXP_BUF_REVOKED, &q));
	ASSERT_EQ(0, lc_query(self->exp, self->buf, &q, att, 2));
	EXPECT_EQ(reason, q.revoke_reasons & reason) TH_LOG("reasons %#x", q.revoke_reasons);
	EXPECT_EQ(self->revokes + 1, q.revokes);
	if (!self->can_map)
		return;
	ASSERT_EQ(1U, q.nr_attachments);
	EXPECT_EQ(0U, att[0].nr_mappings) TH_LOG("a mapping of a BAR that does not decode");
	ASSERT_EQ(0, imp_status(self->imp, self->h, &st));
	EXPECT_EQ(P2PBUF_IMP_STATE_INVALIDATED, st.state & (P2PBUF_IMP_STATE_INVALIDATED |
							 P2PBUF_IMP_STATE_MAPPED));
	EXPECT_LE(self->invalidations + 1, st.invalidations);
	EXPECT_LE(1, imp_drain_events(self->imp)) TH_LOG("the importer was not told");
	EXPECT_EQ(-ENODEV, imp_map(self->imp, self->h, &m, NULL, 0));
}

/*
 * After the event: live again, revoked exactly once, the importer told
 * twice (revoke, then "map again"), the data it wrote before still there,
 * and DMA works both ways with the topology's map type.
 */
static void expect_restored(struct __test_metadata *_metadata,
			    LC_SELF *self, const char *what)
{
	struct p2pbuf_exp_attach_state att[2];
	unsigned char out[DATA_LEN];
	struct p2pbuf_exp_query q;
	struct p2pbuf_imp_map m;

	ASSERT_EQ(0, wait_state(_metadata, self, P2PBUF_EXP_BUF_LIVE, &q))
		TH_LOG("%s: still revoked, reasons %#x", what, q.revoke_reasons);
	EXPECT_EQ(0U, q.revoke_reasons);
	EXPECT_EQ(self->revokes + 1, q.revokes) TH_LOG("%s: not revoked around the event", what);
	if (!self->can_map) {
		ksft_print_msg("%s: revoked %u time(s), live again (no route: nothing imported)\n",
			       what, q.revokes - self->revokes);
		return;
	}
	EXPECT_LE(self->invalidations + 2, invalidations(self))
		TH_LOG("%s: the importer was not told of the revoke and the restore", what);
	imp_drain_events(self->imp);
	ASSERT_EQ(0, imp_map(self->imp, self->h, &m, NULL, 0));
	EXPECT_MAP_TYPE(self->expect, m.map_type);
	ASSERT_EQ(0, lc_query(self->exp, self->buf, &q, att, 2));
	EXPECT_EQ(1U, att[0].nr_mappings);
	ksft_print_msg("%s: revoked %u time(s), importer told %llu time(s), map type %s\n",
		       what, q.revokes - self->revokes,
		       (unsigned long long)(invalidations(self) - self->invalidations),
		       imp_map_type_name(m.map_type));
	if (!self->engine)
		return;
	memset(out, 0, sizeof(out));
	ASSERT_EQ(0, imp_dma(self->imp, self->h, P2PBUF_IMP_DMA_FROM_BUF, DATA_OFF,
			     out, DATA_LEN));
	EXPECT_EQ(0, memcmp(self->data, out, DATA_LEN))
		TH_LOG("%s: the data written before the event did not come back", what);
	dma_write(_metadata, self, 2);
}

TEST_F_TIMEOUT(lc, sysfs_reset, 120)
{
	char method[128];

	if (read_attr(self->pbdf, "reset_method", method, sizeof(method)))
		SKIP(return, "%s has no reset method", self->pbdf);
	ksft_print_msg("reset_method of %s: %s\n", self->pbdf, method);
	ASSERT_EQ(0, write_attr(self->pbdf, "reset", "1"));
	expect_restored(_metadata, self, "sysfs reset");
}

/* Ask the host's QEMU monitor (lab/vm.sh's relay); its answer in @rsp. */
static int monitor(const char *cmd, char *rsp, size_t len)
{
	const char *base = p2pbuf_env("P2PBUF_MONITOR");
	char tmp[PATH_MAX], req[PATH_MAX], ans[PATH_MAX];
	long long end = imp_now_ms() + 30000;
	ssize_t n;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.new", base);
	snprintf(req, sizeof(req), "%s.req", base);
	snprintf(ans, sizeof(ans), "%s.rsp", base);
	unlink(ans);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	n = write(fd, cmd, strlen(cmd));
	close(fd);
	if (n < 0 || rename(tmp, req))
		return -errno;
	while ((fd = open(ans, O_RDONLY | O_CLOEXEC)) < 0) {
		if (imp_now_ms() > end)
			return -ETIMEDOUT;
		usleep(100 * 1000);
	}
	n = read(fd, rsp, len - 1);
	close(fd);
	unlink(ans);
	rsp[n < 0 ? 0 : n] = '\0';
	return 0;
}

static void aer(struct __test_metadata *_metadata, LC_SELF *self,
		const char *error, const char *what)
{
	const char *port = p2pbuf_env("P2PBUF_AER_PORT");
	char cmd[128], rsp[1024];
	int ret;

	if (!p2pbuf_env("P2PBUF_MONITOR") || !port)
		SKIP(return, "no QEMU monitor relay (P2PBUF_MONITOR, P2PBUF_AER_PORT unset)");
	snprintf(cmd, sizeof(cmd), "pcie_aer_inject_error %s %s", port, error);
	ret = monitor(cmd, rsp, sizeof(rsp));
	ASSERT_EQ(0, ret) TH_LOG("monitor: %s", strerror(-ret));
	rsp[strcspn(rsp, "\n")] = '\0';
	ksft_print_msg("%s: QEMU: %s -> '%s'\n", what, cmd, rsp);
	ASSERT_EQ(NULL, strstr(rsp, "invalid")) TH_LOG("QEMU refused the injection");
	/* Recovery runs in the AER interrupt thread: wait for its revoke. */
	expect_restored(_metadata, self, what);
}

/* Non-fatal: error_detected(normal), mmio_enabled, resume; no reset. */
TEST_F_TIMEOUT(lc, aer_nonfatal, 120)
{
	aer(_metadata, self, "POISON_TLP", "AER non-fatal (poisoned TLP)");
}

/* Fatal: error_detected(frozen), bus reset, slot_reset, resume. */
TEST_F_TIMEOUT(lc, aer_fatal, 120)
{
	/* Malformed TLP, PCI_ERR_UNC_MALF_TLP: fatal by default severity. */
	aer(_metadata, self, "0x40000", "AER fatal (malformed TLP)");
}

/*
 * Two fatal errors in a row: slot_reset must leave a saved state behind for
 * the next recovery (pci_restore_state() consumes it), so the BARs come
 * back the second time too.
 */
TEST_F_TIMEOUT(lc, aer_fatal_twice, 240)
{
	struct p2pbuf_exp_query q;

	if (!p2pbuf_env("P2PBUF_MONITOR") || !p2pbuf_env("P2PBUF_AER_PORT"))
		SKIP(return, "no QEMU monitor relay (P2PBUF_MONITOR, P2PBUF_AER_PORT unset)");
	aer(_metadata, self, "0x40000", "AER fatal (malformed TLP), first");
	ASSERT_EQ(0, lc_query(self->exp, self->buf, &q, NULL, 0));
	self->revokes = q.revokes;
	if (self->can_map)
		self->invalidations = invalidations(self);
	aer(_metadata, self, "0x40000", "AER fatal (malformed TLP), second");
}

/*
 * Suspends every device of the machine: in the lab that includes the
 * virtio-9p root and results filesystems, whose I/O hangs after the resume
 * (seen with 7.2.13 under QEMU 7.2). Opt-in: P2PBUF_SYSTEM_SUSPEND=1.
 */
TEST_F_TIMEOUT(lc, system_suspend, 180)
{
	struct p2pbuf_exp_query q;
	char states[128] = "";
	const char *state;
	int kmsg;
	FILE *f;

	if (!p2pbuf_env("P2PBUF_SYSTEM_SUSPEND"))
		SKIP(return, "suspending all devices hangs the 9p root (P2PBUF_SYSTEM_SUSPEND=1)");
	f = fopen("/sys/power/state", "re");
	if (!f)
		SKIP(return, "/sys/power/state: %s", strerror(errno));
	if (!fgets(states, sizeof(states), f))
		states[0] = '\0';
	fclose(f);
	state = strstr(states, "mem") ? "mem" : strstr(states, "freeze") ? "freeze" : NULL;
	if (!state)
		SKIP(return, "/sys/power/state offers '%s'", states);
	kmsg = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	ASSERT_EQ(0, p2pbuf_sysfs_write("/sys/power/pm_test", "devices"))
		TH_LOG("pm_test: %s (CONFIG_PM_DEBUG?)", strerror(errno));
	/* Suspends every device, waits 5 s, resumes them. */
	EXPECT_EQ(0, p2pbuf_sysfs_write("/sys/power/state", state));
	EXPECT_EQ(0, p2pbuf_sysfs_write("/sys/power/pm_test", "none"));
	/* To the console first: the 9p stdout may not come back. */
	if (kmsg >= 0 && !lc_query(self->exp, self->buf, &q, NULL, 0)) {
		dprintf(kmsg, "lifecycle_test: after %s: state %u reasons %#x revokes %u/%u\n",
			state, q.state, q.revoke_reasons, self->revokes, q.revokes);
		dprintf(kmsg, "lifecycle_test: invalidations %llu/%llu\n",
			(unsigned long long)self->invalidations,
			(unsigned long long)invalidations(self));
		close(kmsg);
	}
	ksft_print_msg("system suspend: %s with pm_test=devices\n", state);
	expect_restored(_metadata, self, "system suspend");
}

/*
 * Runtime PM allowed (power/control "auto") while an exporter file is open:
 * the device must not suspend under its buffers, as vfio-pci's does not
 * while it is open; the importers' DMA is no use the PM core can see. The
 * PCI core suspends an idle device at once, so a second is plenty. (Once
 * the last file closes, every buffer is revoked for good and the device
 * may suspend.)
 */
TEST_F_TIMEOUT(lc, runtime_suspend, 120)
{
	struct p2pbuf_exp_attach_state att[2];
	struct p2pbuf_exp_query q;
	char status[64];

	ASSERT_EQ(0, write_attr(self->pbdf, "power/control", "auto"));
	usleep(1000 * 1000);
	ASSERT_EQ(0, read_attr(self->pbdf, "power/runtime_status", status,
			       sizeof(status)));
	EXPECT_STREQ("active", status)
		TH_LOG("runtime-suspended with an exporter file open");
	ASSERT_EQ(0, lc_query(self->exp, self->buf, &q, att, 2));
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_LIVE, q.state)
		TH_LOG("revoked while allowed to suspend: reasons %#x", q.revoke_reasons);
	EXPECT_EQ(self->revokes, q.revokes);
	ASSERT_EQ(0, write_attr(self->pbdf, "power/control", "on"));
	ksft_print_msg("runtime PM allowed: device %s, buffer %s\n", status,
		       q.state == P2PBUF_EXP_BUF_LIVE ? "live" : "revoked");
}

static int command_rw(const char *bdf, __u16 *cmd, bool write)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	fd = open(dev_attr(path, sizeof(path), bdf, "config"), O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write ? pwrite(fd, cmd, 2, 4) : pread(fd, cmd, 2, 4);
	close(fd);
	return n == 2 ? 0 : -EIO;
}

/*
 * Memory decode off behind the driver (as setpci would): the periodic
 * check revokes; a buffer exported meanwhile starts revoked; a user
 * RESTORE does not make the buffer live while decoding is off (the
 * reasons compose); decode on again restores both.
 */
TEST_F_TIMEOUT(lc, memory_decode_off, 120)
{
	struct p2pbuf_exp_query q;
	__u16 cmd, off;
	int second;

	ASSERT_EQ(0, command_rw(self->pbdf, &cmd, false));
	ASSERT_NE(0, cmd & 0x2) TH_LOG("command %#x: memory decode already off", cmd);
	off = cmd & ~0x2;
	ASSERT_EQ(0, command_rw(self->pbdf, &off, true));
	expect_revoked(_metadata, self, P2PBUF_EXP_REVOKED_DECODE);

	second = lc_export(self->exp);
	ASSERT_LE(0, second);
	ASSERT_EQ(0, lc_query(self->exp, second, &q, NULL, 0));
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_REVOKED, q.state);
	EXPECT_EQ(P2PBUF_EXP_REVOKED_DECODE, q.revoke_reasons);

	EXPECT_EQ(1, lc_revoke(self->exp, P2PBUF_EXP_REVOKE, self->buf));
	EXPECT_EQ(1, lc_revoke(self->exp, P2PBUF_EXP_RESTORE, self->buf));
	ASSERT_EQ(0, lc_query(self->exp, self->buf, &q, NULL, 0));
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_REVOKED, q.state)
		TH_LOG("RESTORE made a non-decoding BAR live");
	EXPECT_EQ(P2PBUF_EXP_REVOKED_DECODE, q.revoke_reasons);

	ASSERT_EQ(0, command_rw(self->pbdf, &cmd, true));
	expect_restored(_metadata, self, "memory decode off");
	ASSERT_EQ(0, lc_query(self->exp, second, &q, NULL, 0));
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_LIVE, q.state) TH_LOG("reasons %#x", q.revoke_reasons);
	close(second);
}

/* A user REVOKE during an event: live only after both ended. */
TEST_F_TIMEOUT(lc, user_revoke_composes_with_event, 120)
{
	struct p2pbuf_exp_query q;

	EXPECT_EQ(1, lc_revoke(self->exp, P2PBUF_EXP_REVOKE, self->buf));
	ASSERT_EQ(0, write_attr(self->pbdf, "reset", "1"))
		TH_LOG("reset: %s", strerror(errno));
	ASSERT_EQ(0, lc_query(self->exp, self->buf, &q, NULL, 0));
	EXPECT_EQ((__u32)P2PBUF_EXP_BUF_REVOKED, q.state)
		TH_LOG("reset_done restored a user revoke");
	EXPECT_EQ(P2PBUF_EXP_REVOKED_USER, q.revoke_reasons);
	EXPECT_EQ(1, lc_revoke(self->exp, P2PBUF_EXP_RESTORE, self->buf));
	expect_restored(_metadata, self, "user revoke across a reset");
}

#include "lifecycle_abi.c"

TEST_HARNESS_MAIN
