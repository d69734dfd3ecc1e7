/* SPDX-License-Identifier: GPL-2.0 */
/*
 * importer_safety_test: access modes. A device write into a dma-buf needs
 * write access to it: an import of a read-only dma-buf file is read-only
 * (STATUS READONLY, mapped DMA_TO_DEVICE), and DMA_TO_BUF on it is -EACCES
 * with the buffer untouched, whoever holds the descriptor (SCM_RIGHTS). A
 * device read needs read access: a write-only import (STATUS WRITEONLY,
 * mapped DMA_FROM_DEVICE) refuses DMA_FROM_BUF; a file with neither access
 * is not imported.
 */
#ifndef P2PBUF_IMPORTER_ACCESS_TESTS_H
#define P2PBUF_IMPORTER_ACCESS_TESTS_H

#include "importer_safety_lib.h"

/*
 * Import @dmabuf (read-only), map it and try a device write: -EACCES and
 * nothing written (@cpu, PROT_READ); a device read works.
 */
static void safe_expect_readonly(struct __test_metadata *_metadata, int imp,
				 int dmabuf, const unsigned char *cpu,
				 int has_engine)
{
	unsigned char in[256], out[256], before[256];
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_map m;
	__u32 h;

	ASSERT_EQ(0, imp_import(imp, dmabuf, 0, &h, NULL));
	ASSERT_EQ(0, imp_status(imp, h, &st));
	EXPECT_EQ(P2PBUF_IMP_STATE_READONLY, st.state & P2PBUF_IMP_STATE_READONLY);
	ASSERT_EQ(0, imp_map(imp, h, &m, NULL, 0));
	if (has_engine) {
		memcpy(before, cpu + 4096, sizeof(before));
		imp_pattern(in, sizeof(in), 41);
		EXPECT_EQ(-EACCES, imp_dma(imp, h, P2PBUF_IMP_DMA_TO_BUF, 4096,
					   in, sizeof(in)));
		EXPECT_EQ(0, memcmp(cpu + 4096, before, sizeof(before)))
			TH_LOG("a read-only buffer was written by the device");
		memset(out, 0x5a, sizeof(out));
		EXPECT_EQ(0, imp_dma(imp, h, P2PBUF_IMP_DMA_FROM_BUF, 4096, out,
				     sizeof(out)));
		EXPECT_EQ(0, memcmp(cpu + 4096, out, sizeof(out)));
	}
	EXPECT_EQ(0, imp_handle_op(imp, P2PBUF_IMP_RELEASE, h));
}

/* A read-only system dma-heap buffer. */
TEST_F_TIMEOUT(safe, heap_readonly_refuses_dma_to_buf, 120)
{
	unsigned char *cpu;
	int dmabuf;

	if (safe_ram_unreachable(self->bdf))
		SKIP(return, "%s", safe_ram_unreachable(self->bdf));
	dmabuf = safe_heap_buf(SAFE_BUF_SIZE, O_RDONLY);
	if (dmabuf < 0)
		p2pbuf_feature_missing(return, "no system dma-heap (%s)", strerror(-dmabuf));
	ASSERT_EQ(O_RDONLY, fcntl(dmabuf, F_GETFL) & O_ACCMODE);
	cpu = mmap(NULL, SAFE_BUF_SIZE, PROT_READ, MAP_SHARED, dmabuf, 0);
	ASSERT_NE(MAP_FAILED, cpu);
	safe_expect_readonly(_metadata, self->fd, dmabuf, cpu, self->has_engine);
	munmap(cpu, SAFE_BUF_SIZE);
	close(dmabuf);
}

/*
 * What the p2pbuf_exporter tests need: a route, a BAR the edu reaches and
 * an exporter file in *@exp, the BAR mapped for the CPU in *@bar (check it
 * against MAP_FAILED). Returns why the test cannot run, or NULL.
 */
static const char *access_exp_setup(SAFE_SELF *self, int *exp,
				    unsigned char **bar)
{
	const char *pbdf, *expect = p2pbuf_env("P2PBUF_EXPECT_MAP");
	static char why[128];

	if (expect && !strcmp(expect, "NOT_SUPPORTED"))
		return "no p2pdma route in this topology";
	if (safe_edu_bits() < 32 && !safe_translated(self->bdf))
		return "the BAR is beyond the edu's reach (mask_tests)";
	*exp = safe_exp_open(&pbdf);
	if (*exp < 0) {
		snprintf(why, sizeof(why), "no p2pbuf_exporter provider (%s)",
			 strerror(-*exp));
		return why;
	}
	*bar = safe_bar_mmap(pbdf, SAFE_BUF_SIZE);
	return NULL;
}

/* p2pbuf_exporter's EXPORT with O_RDONLY: the BAR is not written. */
TEST_F_TIMEOUT(safe, p2pbuf_readonly_export_refuses_dma_to_buf, 120)
{
	unsigned char *bar;
	int exp, dmabuf;
	const char *why;

	why = access_exp_setup(self, &exp, &bar);
	if (why)
		SKIP(return, "%s", why);
	ASSERT_NE(MAP_FAILED, bar);
	imp_pattern(bar, SAFE_BUF_SIZE, 40);
	dmabuf = safe_exp_export(exp, 0, SAFE_BUF_SIZE, O_RDONLY);
	ASSERT_LE(0, dmabuf) TH_LOG("EXPORT O_RDONLY: %s", strerror(-dmabuf));
	ASSERT_EQ(O_RDONLY, fcntl(dmabuf, F_GETFL) & O_ACCMODE);
	safe_expect_readonly(_metadata, self->fd, dmabuf, bar, self->has_engine);
	close(dmabuf);
	munmap(bar, SAFE_BUF_SIZE);
	close(exp);
}

/*
 * A read-only dma-buf descriptor passed to another process keeps its mode:
 * the receiver's import is read-only too; a read-write one stays writable.
 */
TEST_F_TIMEOUT(safe, readonly_fd_through_scm_rights, 120)
{
	int sv[2], ro, rw, status, i, has_engine = self->has_engine;
	pid_t pid;

	if (safe_ram_unreachable(self->bdf))
		SKIP(return, "%s", safe_ram_unreachable(self->bdf));
	ro = safe_heap_buf(SAFE_BUF_SIZE, O_RDONLY);
	if (ro < 0)
		p2pbuf_feature_missing(return, "no system dma-heap (%s)", strerror(-ro));
	rw = safe_heap_buf(SAFE_BUF_SIZE, O_RDWR);
	ASSERT_LE(0, rw);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		unsigned char data[64] = { 1 };
		struct p2pbuf_imp_status st;
		struct p2pbuf_imp_map m;
		char bdf[64];
		int imp, fd, want;
		__u32 h;

		close(sv[0]);
		imp = imp_open(bdf, sizeof(bdf));
		if (imp < 0)
			_exit(10);
		for (i = 0; i < 2; i++) {
			fd = safe_recv_fd(sv[1]);
			if (fd < 0)
				_exit(11);
			if (imp_import(imp, fd, 0, &h, NULL) ||
			    imp_status(imp, h, &st) ||
			    imp_map(imp, h, &m, NULL, 0))
				_exit(12);
			want = i == 0 ? P2PBUF_IMP_STATE_READONLY : 0;
			if ((int)(st.state & P2PBUF_IMP_STATE_READONLY) != want)
				_exit(13);
			want = i == 0 ? -EACCES : 0;
			if (has_engine &&
			    imp_dma(imp, h, P2PBUF_IMP_DMA_TO_BUF, 0, data,
				    sizeof(data)) != want)
				_exit(14 + i);
			close(fd);
		}
		_exit(0);
	}
	close(sv[1]);
	EXPECT_EQ(0, safe_send_fd(sv[0], ro));
	EXPECT_EQ(0, safe_send_fd(sv[0], rw));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("child: 13 mode not seen, 14 read-only written, 15 read-write refused");
	close(sv[0]);
	close(ro);
	close(rw);
}

/*
 * Import @dmabuf (write-only) and map it: STATUS WRITEONLY, the exporter is
 * asked for DMA_FROM_DEVICE (seen in the p2pbuf_imp_map tracepoint when
 * tracefs is there); a device read is -EACCES and copies nothing out, a
 * device write at @off works. Returns the handle, mapped.
 */
static __u32 safe_expect_writeonly(struct __test_metadata *_metadata, int imp,
				   int dmabuf, int has_engine,
				   unsigned char *in, size_t len,
				   __u64 off)
{
	unsigned char out[256], before[256];
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_map m;
	int trace;
	__u32 h;

	trace = !imp_trace_event("p2pbuf_imp_map", 1) && !imp_trace_clear();
	ASSERT_EQ(0, imp_import(imp, dmabuf, 0, &h, NULL));
	ASSERT_EQ(0, imp_status(imp, h, &st));
	EXPECT_EQ(P2PBUF_IMP_STATE_WRITEONLY,
		  st.state & (P2PBUF_IMP_STATE_WRITEONLY |
			      P2PBUF_IMP_STATE_READONLY));
	ASSERT_EQ(0, imp_map(imp, h, &m, NULL, 0));
	if (trace) {
		EXPECT_EQ(h, imp_trace_field("p2pbuf_imp_map", "dir=from_device",
					     "handle"))
			TH_LOG("a write-only import was not mapped DMA_FROM_DEVICE");
		imp_trace_event("p2pbuf_imp_map", 0);
	}
	if (has_engine) {
		memset(out, 0x5a, sizeof(out));
		memcpy(before, out, sizeof(out));
		EXPECT_EQ(-EACCES, imp_dma(imp, h, P2PBUF_IMP_DMA_FROM_BUF, off,
					   out, sizeof(out)));
		EXPECT_EQ(0, memcmp(out, before, sizeof(out)))
			TH_LOG("a write-only buffer was read by the device");
		EXPECT_EQ(0, imp_dma(imp, h, P2PBUF_IMP_DMA_TO_BUF, off, in,
				     len));
	}
	return h;
}

/* A write-only system dma-heap buffer (it cannot be mmap()ed to check). */
TEST_F_TIMEOUT(safe, heap_writeonly_refuses_dma_from_buf, 120)
{
	unsigned char in[256];
	int dmabuf;
	__u32 h;

	if (safe_ram_unreachable(self->bdf))
		SKIP(return, "%s", safe_ram_unreachable(self->bdf));
	dmabuf = safe_heap_buf(SAFE_BUF_SIZE, O_WRONLY);
	if (dmabuf < 0)
		p2pbuf_feature_missing(return, "no system dma-heap (%s)", strerror(-dmabuf));
	ASSERT_EQ(O_WRONLY, fcntl(dmabuf, F_GETFL) & O_ACCMODE);
	imp_pattern(in, sizeof(in), 43);
	h = safe_expect_writeonly(_metadata, self->fd, dmabuf,
				  self->has_engine, in, sizeof(in), 4096);
	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_RELEASE, h));
	close(dmabuf);
}

/* p2pbuf_exporter's EXPORT with O_WRONLY: the device writes, never reads. */
TEST_F_TIMEOUT(safe, p2pbuf_writeonly_export_refuses_dma_from_buf, 120)
{
	unsigned char in[256], *bar;
	int exp, dmabuf;
	const char *why;
	__u32 h;

	why = access_exp_setup(self, &exp, &bar);
	if (why)
		SKIP(return, "%s", why);
	ASSERT_NE(MAP_FAILED, bar);
	imp_pattern(bar, SAFE_BUF_SIZE, 44);
	dmabuf = safe_exp_export(exp, 0, SAFE_BUF_SIZE, O_WRONLY);
	ASSERT_LE(0, dmabuf) TH_LOG("EXPORT O_WRONLY: %s", strerror(-dmabuf));
	ASSERT_EQ(O_WRONLY, fcntl(dmabuf, F_GETFL) & O_ACCMODE);
	imp_pattern(in, sizeof(in), 45);
	h = safe_expect_writeonly(_metadata, self->fd, dmabuf,
				  self->has_engine, in, sizeof(in), 4096);
	if (self->has_engine)
		EXPECT_EQ(0, memcmp(bar + 4096, in, sizeof(in)));
	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_RELEASE, h));
	close(dmabuf);
	munmap(bar, SAFE_BUF_SIZE);
	close(exp);
}

/*
 * A dma-buf file opened for neither reading nor writing (a dma-heap takes
 * access mode 3, O_ACCMODE) allows the device nothing: IMPORT is -EACCES.
 */
TEST_F_TIMEOUT(safe, no_access_mode_refused, 60)
{
	struct p2pbuf_imp_status st;
	int dmabuf;
	__u32 h;

	dmabuf = safe_heap_buf(SAFE_BUF_SIZE, O_ACCMODE);
	if (dmabuf < 0)
		p2pbuf_feature_missing(return, "no system dma-heap buffer of mode 3 (%s)",
				       strerror(-dmabuf));
	ASSERT_EQ(O_ACCMODE, fcntl(dmabuf, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(-EACCES, imp_import(self->fd, dmabuf, 0, &h, NULL));
	EXPECT_EQ(-ENOENT, imp_status(self->fd, 1, &st));
	close(dmabuf);
}

/* udmabuf exports O_RDWR only: its imports are writable. */
TEST_F_TIMEOUT(safe, udmabuf_import_is_writable, 120)
{
	unsigned char in[128], *cpu;
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_map m;
	int dmabuf, memfd;
	__u32 h;

	if (safe_ram_unreachable(self->bdf))
		SKIP(return, "%s", safe_ram_unreachable(self->bdf));
	dmabuf = imp_udmabuf(SAFE_BUF_SIZE, &memfd);
	if (dmabuf < 0)
		p2pbuf_feature_missing(return, "no udmabuf (%s)", strerror(-dmabuf));
	EXPECT_EQ(O_RDWR, fcntl(dmabuf, F_GETFL) & O_ACCMODE);
	cpu = mmap(NULL, SAFE_BUF_SIZE, PROT_READ, MAP_SHARED, memfd, 0);
	ASSERT_NE(MAP_FAILED, cpu);
	ASSERT_EQ(0, imp_import(self->fd, dmabuf, 0, &h, NULL));
	ASSERT_EQ(0, imp_status(self->fd, h, &st));
	EXPECT_EQ(0U, st.state & P2PBUF_IMP_STATE_READONLY);
	ASSERT_EQ(0, imp_map(self->fd, h, &m, NULL, 0));
	if (self->has_engine) {
		imp_pattern(in, sizeof(in), 42);
		EXPECT_EQ(0, imp_dma(self->fd, h, P2PBUF_IMP_DMA_TO_BUF, 100, in,
				     sizeof(in)));
		EXPECT_EQ(0, memcmp(cpu + 100, in, sizeof(in)));
	}
	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_RELEASE, h));
	munmap(cpu, SAFE_BUF_SIZE);
	close(dmabuf);
	close(memfd);
}

#endif /* P2PBUF_IMPORTER_ACCESS_TESTS_H */
