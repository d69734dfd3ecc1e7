// SPDX-License-Identifier: GPL-2.0
/*
 * vgem_test: a p2pbuf dma-buf offered to a DRM driver through PRIME.
 *
 * vgem imports a dma-buf (DRM_IOCTL_PRIME_FD_TO_HANDLE, what libdrm's
 * drmPrimeFDToHandle() issues) with a static attachment: peer2peer is false
 * and it has no invalidate_mappings, so it is not revocable. p2pbuf_exporter
 * refuses such an attachment in .attach with -EOPNOTSUPP, and DRM returns
 * that errno from the ioctl: EOPNOTSUPP (95), no GEM handle created, the
 * attachment freed and the dma-buf reference dropped. These tests check the
 * errno, that the refusal comes from the exporter's no-p2p check, that
 * nothing is left behind (no handle, no attachment, no file, the buffer
 * freed when its fd is closed) and, as a control, that the same ioctl
 * imports vgem's own dma-buf.
 *
 * Needs vgem (CONFIG_DRM_VGEM) and P2PBUF_PROVIDER_BDF bound to
 * p2pbuf_exporter; SKIPs without them. The exporter's debugfs "state" file
 * (not an ABI) is read when present to see the refusal counter and the
 * buffer list.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <linux/p2pbuf_exporter.h>

#include "p2pbuf_test.h"

#define PAGE		4096ULL
#define LOOPS		200

/* Open the DRM primary node whose driver is vgem; -1 if there is none. */
static int open_vgem(void)
{
	char name[16], path[300];
	struct dirent *de;
	DIR *d;
	int fd = -1;

	d = opendir("/dev/dri");
	if (!d)
		return -1;
	while (fd < 0 && (de = readdir(d))) {
		struct drm_version v = { .name = name, .name_len = sizeof(name) - 1 };

		if (strncmp(de->d_name, "card", 4))
			continue;
		snprintf(path, sizeof(path), "/dev/dri/%s", de->d_name);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		memset(name, 0, sizeof(name));
		if (ioctl(fd, DRM_IOCTL_VERSION, &v) || strcmp(name, "vgem")) {
			close(fd);
			fd = -1;
		}
	}
	closedir(d);
	return fd;
}

/* drmPrimeFDToHandle(): the handle, or -1 with errno. */
static int prime_fd_to_handle(int drm, int dmabuf, __u32 *handle)
{
	struct drm_prime_handle p = { .fd = dmabuf };

	if (ioctl(drm, DRM_IOCTL_PRIME_FD_TO_HANDLE, &p))
		return -1;
	*handle = p.handle;
	return 0;
}

static int count_fds(void)
{
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/*
 * From the exporter's debugfs state: the "no-p2p" refusal counter and the
 * number of buffers. Returns -1 if the file cannot be read.
 */
static int exp_debugfs(const char *bdf, long *no_p2p, int *bufs)
{
	char path[256], line[512];
	const char *p;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/p2pbuf_exporter/%s/state", bdf);
	f = fopen(path, "re");
	if (!f)
		return -1;
	*no_p2p = -1;
	*bufs = 0;
	while (fgets(line, sizeof(line), f)) {
		p = strstr(line, " no-p2p ");
		if (!strncmp(line, "refused attaches:", 17) && p)
			*no_p2p = strtol(p + 8, NULL, 10);
		if (!strncmp(line, "buffer ", 7))
			(*bufs)++;
	}
	fclose(f);
	return *no_p2p < 0 ? -1 : 0;
}

FIXTURE(vgem) {
	const char *bdf;
	int vgem;	/* vgem's primary node */
	int exp;	/* /dev/p2pbuf-exp-<bdf> */
	__u32 bar;
};

FIXTURE_SETUP(vgem)
{
	struct p2pbuf_exp_info info = { .argsz = sizeof(info) };
	char path[128];
	__u32 i;

	self->exp = -1;
	self->vgem = open_vgem();
	if (self->vgem < 0)
		p2pbuf_feature_missing(return, "no vgem DRM device (CONFIG_DRM_VGEM)");
	self->bdf = p2pbuf_env("P2PBUF_PROVIDER_BDF");
	if (!self->bdf)
		SKIP(return, "not in the lab: P2PBUF_PROVIDER_BDF unset");
	snprintf(path, sizeof(path), "/dev/p2pbuf-exp-%s", self->bdf);
	self->exp = open(path, O_RDWR | O_CLOEXEC);
	if (self->exp < 0)
		SKIP(return, "cannot open %s: %s", path, strerror(errno));
	ASSERT_EQ(0, ioctl(self->exp, P2PBUF_EXP_INFO, &info));
	for (i = 0; i < P2PBUF_EXP_NUM_BARS; i++)
		if (info.bars[i].flags & P2PBUF_EXP_BAR_PROVIDER &&
		    info.bars[i].size >= 2 * PAGE)
			break;
	ASSERT_LT(i, (__u32)P2PBUF_EXP_NUM_BARS) TH_LOG("no provider BAR on %s", self->bdf);
	self->bar = i;
}

FIXTURE_TEARDOWN(vgem)
{
	if (self->exp >= 0)
		close(self->exp);
	if (self->vgem >= 0)
		close(self->vgem);
}

/* A dma-buf of two pages of the provider BAR. */
static int export_buf(int exp, __u32 bar)
{
	struct p2pbuf_exp_range r = { .offset = 0, .length = 2 * PAGE };
	struct p2pbuf_exp_export e = {
		.argsz = sizeof(e),
		.bar = bar,
		.open_flags = O_RDWR | O_CLOEXEC,
		.nr_ranges = 1,
		.fd = -1,
		.ranges = (uintptr_t)&r,
	};

	if (ioctl(exp, P2PBUF_EXP_EXPORT, &e))
		return -1;
	return e.fd;
}

static int nr_attachments(int exp, int buf)
{
	struct p2pbuf_exp_query q = {
		.argsz = sizeof(q),
		.fd = buf,
	};

	if (ioctl(exp, P2PBUF_EXP_QUERY, &q))
		return -1;
	return q.nr_attachments;
}

/* PRIME import into vgem fails with EOPNOTSUPP and creates no handle. */
TEST_F(vgem, prime_import_refused)
{
	struct drm_gem_close gc = { .handle = 1 };
	__u32 handle = 0xdead;
	int buf;

	buf = export_buf(self->exp, self->bar);
	ASSERT_LE(0, buf);
	EXPECT_ERRNO(EOPNOTSUPP, prime_fd_to_handle(self->vgem, buf, &handle));
	EXPECT_EQ(0xdeadU, handle);
	/* A fresh DRM file has no GEM object: handle 1 does not exist. */
	EXPECT_ERRNO(EINVAL, ioctl(self->vgem, DRM_IOCTL_GEM_CLOSE, &gc));
	/* The refused attachment is gone; the buffer is untouched. */
	EXPECT_EQ(0, nr_attachments(self->exp, buf));
	/* Asking again gives the same answer (no stale prime cache entry). */
	EXPECT_ERRNO(EOPNOTSUPP, prime_fd_to_handle(self->vgem, buf, &handle));
	EXPECT_EQ(0, nr_attachments(self->exp, buf));
	close(buf);
}

/* The refusal is the exporter's: its "no-p2p" counter moves by one. */
TEST_F(vgem, refusal_is_no_p2p)
{
	long before, after;
	__u32 handle;
	int buf, n;

	if (exp_debugfs(self->bdf, &before, &n))
		p2pbuf_feature_missing(return, "no p2pbuf_exporter debugfs state for %s",
				       self->bdf);
	buf = export_buf(self->exp, self->bar);
	ASSERT_LE(0, buf);
	EXPECT_ERRNO(EOPNOTSUPP, prime_fd_to_handle(self->vgem, buf, &handle));
	ASSERT_EQ(0, exp_debugfs(self->bdf, &after, &n));
	EXPECT_EQ(before + 1, after);
	close(buf);
}

/*
 * Nothing leaks: after many refused imports, closing the dma-buf frees the
 * buffer (the refused attachments held no reference), no file descriptor
 * was created, and no GEM handle exists. kmemleak, scanned by the lab after
 * the suites, sees any lost attachment.
 */
TEST_F(vgem, refused_imports_leak_nothing)
{
	struct drm_gem_close gc = { .handle = 1 };
	int buf, i, fds, bufs0, bufs1, bufs2;
	bool have_debugfs;
	long refused;
	__u32 handle;

	have_debugfs = !exp_debugfs(self->bdf, &refused, &bufs0);
	fds = count_fds();
	ASSERT_LT(0, fds);
	buf = export_buf(self->exp, self->bar);
	ASSERT_LE(0, buf);
	for (i = 0; i < LOOPS; i++) {
		errno = 0;
		ASSERT_EQ(-1, prime_fd_to_handle(self->vgem, buf, &handle));
		ASSERT_EQ(EOPNOTSUPP, errno) TH_LOG("import %d", i);
	}
	EXPECT_EQ(fds + 1, count_fds());
	EXPECT_EQ(0, nr_attachments(self->exp, buf));
	EXPECT_ERRNO(EINVAL, ioctl(self->vgem, DRM_IOCTL_GEM_CLOSE, &gc));
	if (have_debugfs) {
		ASSERT_EQ(0, exp_debugfs(self->bdf, &refused, &bufs1));
		EXPECT_EQ(bufs0 + 1, bufs1);
	}
	close(buf);
	EXPECT_EQ(fds, count_fds());
	if (have_debugfs) {
		ASSERT_EQ(0, exp_debugfs(self->bdf, &refused, &bufs2));
		EXPECT_EQ(bufs0, bufs2) TH_LOG("buffer still listed after its last fd closed");
	}
}

/* Control: the same ioctl imports vgem's own dma-buf on another file. */
TEST_F(vgem, control_vgem_self_import)
{
	struct drm_mode_create_dumb c = { .width = 64, .height = 64, .bpp = 32 };
	struct drm_prime_handle p = { .flags = DRM_CLOEXEC | DRM_RDWR };
	struct drm_gem_close gc = { 0 };
	__u32 handle = 0;
	int other;

	ASSERT_EQ(0, ioctl(self->vgem, DRM_IOCTL_MODE_CREATE_DUMB, &c));
	p.handle = c.handle;
	ASSERT_EQ(0, ioctl(self->vgem, DRM_IOCTL_PRIME_HANDLE_TO_FD, &p));
	other = open_vgem();
	ASSERT_LE(0, other);
	EXPECT_EQ(0, prime_fd_to_handle(other, p.fd, &handle));
	EXPECT_NE(0U, handle);
	gc.handle = handle;
	EXPECT_EQ(0, ioctl(other, DRM_IOCTL_GEM_CLOSE, &gc));
	close(other);
	close(p.fd);
	gc.handle = c.handle;
	EXPECT_EQ(0, ioctl(self->vgem, DRM_IOCTL_GEM_CLOSE, &gc));
}

/* A revoked buffer is refused the same way: no-p2p is checked first. */
TEST_F(vgem, revoked_buffer_refused)
{
	struct p2pbuf_exp_revoke r = { .argsz = sizeof(r) };
	__u32 handle;
	int buf;

	buf = export_buf(self->exp, self->bar);
	ASSERT_LE(0, buf);
	r.fd = buf;
	ASSERT_EQ(0, ioctl(self->exp, P2PBUF_EXP_REVOKE, &r));
	EXPECT_ERRNO(EOPNOTSUPP, prime_fd_to_handle(self->vgem, buf, &handle));
	ASSERT_EQ(0, ioctl(self->exp, P2PBUF_EXP_RESTORE, &r));
	EXPECT_ERRNO(EOPNOTSUPP, prime_fd_to_handle(self->vgem, buf, &handle));
	close(buf);
}

TEST_HARNESS_MAIN
