/* SPDX-License-Identifier: GPL-2.0 */
/*
 * importer_safety_test: the "safe" fixture and its helpers: dma-bufs with a
 * chosen access mode (system dma-heap, p2pbuf_exporter), passing a
 * descriptor through SCM_RIGHTS, the lab's test exporter p2pbuf_labexp
 * (lab/test-modules/p2pbuf_labexp), PCI config and module parameters read
 * through sysfs, and the importer's tracepoints read through tracefs.
 */
#ifndef P2PBUF_IMPORTER_SAFETY_LIB_H
#define P2PBUF_IMPORTER_SAFETY_LIB_H

#include <pthread.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/p2pbuf_exporter.h>

#include "importer_lib.h"

#define SAFE_BUF_SIZE	(16 * 4096U)
#define SAFE_MAX_SEGS	64U

/* p2pbuf_labexp's interface (lab/test-modules/p2pbuf_labexp/). */
#define LABEXP_NODE		"/dev/p2pbuf-labexp"
#define LABEXP_DEBUGFS		"/sys/kernel/debug/p2pbuf_labexp"
#define LABEXP_CREATE		_IO('L', 0x01)
#define LABEXP_INVALIDATE	_IO('L', 0x02)
#define LABEXP_PARK		_IO('L', 0x03)

#define IMP_PARAMS	"/sys/module/p2pbuf_importer/parameters"

FIXTURE(safe) {
	int fd;
	char bdf[64];
	struct p2pbuf_imp_info info;
	int has_engine;
};

/* The fixture's data, for helpers shared by the tests. */
#define SAFE_SELF FIXTURE_DATA(safe)

FIXTURE_SETUP(safe)
{
	self->fd = imp_open(self->bdf, sizeof(self->bdf));
	if (self->fd < 0)
		SKIP(return, "no p2pbuf_importer device (%s)", strerror(-self->fd));
	ASSERT_EQ(0, imp_info(self->fd, &self->info));
	self->has_engine = self->info.engine[0] != '\0';
}

FIXTURE_TEARDOWN(safe)
{
	if (self->fd >= 0)
		close(self->fd);
}

static inline int safe_cap_drop(int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[cap / 32].effective &= ~(1u << (cap % 32));
	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

/* A system dma-heap buffer whose file has access mode @mode. */
static inline int safe_heap_buf(size_t size, int mode)
{
	struct dma_heap_allocation_data alloc = {
		.len = size, .fd_flags = mode | O_CLOEXEC,
	};
	int heap, ret;

	heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	if (heap < 0)
		return -errno;
	ret = ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &alloc);
	ret = ret < 0 ? -errno : (int)alloc.fd;
	close(heap);
	return ret;
}

/* Send @fd over the socket @sock (SCM_RIGHTS); 0 or -errno. */
static inline int safe_send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char byte = 'f';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

/* Receive a descriptor sent by safe_send_fd(); the fd or -errno. */
static inline int safe_recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -errno;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -EBADMSG;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* p2pbuf_exporter of the lab's provider, or -errno (the caller SKIPs). */
static inline int safe_exp_open(const char **pbdf)
{
	char path[PATH_MAX];
	int fd;

	*pbdf = p2pbuf_env("P2PBUF_PROVIDER_BDF");
	if (!*pbdf)
		return -ENOENT;
	snprintf(path, sizeof(path), "/dev/p2pbuf-exp-%s", *pbdf);
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Export [@off, @off + @len) of BAR 2 with access mode @mode; fd or -errno. */
static inline int safe_exp_export(int exp, __u64 off, __u64 len, int mode)
{
	struct p2pbuf_exp_range r = { .offset = off, .length = len };
	struct p2pbuf_exp_export arg = {
		.argsz = sizeof(arg), .bar = 2,
		.open_flags = mode | O_CLOEXEC, .nr_ranges = 1,
		.ranges = (uintptr_t)&r,
	};

	if (ioctl(exp, P2PBUF_EXP_EXPORT, &arg))
		return -errno;
	return arg.fd;
}

/* CPU mapping of the first @len bytes of BAR 2 of @bdf (sysfs resource2). */
static inline unsigned char *safe_bar_mmap(const char *bdf, size_t len)
{
	char path[PATH_MAX];
	void *p;
	int fd;

	snprintf(path, sizeof(path), IMP_SYSFS_PCI "/%s/resource2", bdf);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return MAP_FAILED;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return p;
}

/* CPU start of BAR @bar of @bdf from sysfs "resource"; 0 if unknown. */
static inline __u64 safe_bar_start(const char *bdf, int bar)
{
	unsigned long long start = 0, end, flags;
	char path[PATH_MAX];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), IMP_SYSFS_PCI "/%s/resource", bdf);
	f = fopen(path, "re");
	if (!f)
		return 0;
	for (i = 0; i <= bar; i++)
		if (fscanf(f, "%llx %llx %llx", &start, &end, &flags) != 3)
			start = 0;
	fclose(f);
	return start;
}

/* The PCI command register of @bdf; -errno on error. */
static inline int safe_pci_command(const char *bdf)
{
	char path[PATH_MAX];
	unsigned char cmd[2];
	int fd, n;

	snprintf(path, sizeof(path), IMP_SYSFS_PCI "/%s/config", bdf);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, cmd, sizeof(cmd), 4);
	close(fd);
	if (n != 2)
		return -EIO;
	return cmd[0] | cmd[1] << 8;
}

#define SAFE_PCI_COMMAND_MASTER	0x4

/* A decimal sysfs/debugfs value; -errno if unreadable. */
static inline long long safe_read_num(const char *path)
{
	char buf[64];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	if (buf[0] == 'Y' || buf[0] == 'N')
		return buf[0] == 'Y';
	return strtoll(buf, NULL, 0);
}

static inline int safe_write_str(const char *path, const char *val)
{
	return p2pbuf_sysfs_write(path, val) ? -errno : 0;
}

/*
 * DMA address bits the lab's edu device has (QEMU's dma_mask property):
 * P2PBUF_EDU_DMA_BITS, 64 when unset (the lab's usual all-ones mask).
 */
static inline unsigned int safe_edu_bits(void)
{
	const char *e = p2pbuf_env("P2PBUF_EDU_DMA_BITS");

	return e ? (unsigned int)strtoul(e, NULL, 0) : 64;
}

static inline unsigned long long safe_mask(unsigned int bits)
{
	return bits >= 64 ? ~0ULL : (1ULL << bits) - 1;
}

/* Is @bdf behind a translating IOMMU (a DMA domain)? */
static inline int safe_translated(const char *bdf)
{
	char path[PATH_MAX], type[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), IMP_SYSFS_PCI "/%s/iommu_group/type", bdf);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (!fgets(type, sizeof(type), f))
		type[0] = '\0';
	fclose(f);
	return !strncmp(type, "DMA", 3);
}

/* Unbind @bdf and bind it to p2pbuf_importer again; 0 or -errno. */
static inline int safe_rebind(const char *bdf)
{
	char drv[64];
	int ret;

	ret = p2pbuf_pci_bind(bdf, "");
	if (!ret)
		ret = p2pbuf_pci_bind(bdf, "p2pbuf_importer");
	imp_pci_driver(bdf, drv, sizeof(drv));
	return ret ? ret : strcmp(drv, "p2pbuf_importer") ? -ENODEV : 0;
}

/* The lab's test exporter, or -errno (the caller SKIPs). */
static inline int labexp_open(void)
{
	int fd = open(LABEXP_NODE, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static inline long long labexp_counter(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), LABEXP_DEBUGFS "/%s", name);
	return safe_read_num(path);
}

static inline int labexp_set(const char *name, const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), LABEXP_DEBUGFS "/%s", name);
	return safe_write_str(path, val);
}

static inline int labexp_ioctl(int dev, unsigned long cmd, unsigned long arg)
{
	int ret = ioctl(dev, cmd, arg);

	return ret < 0 ? -errno : ret;
}

/*
 * Why a page-backed mapping cannot be tested here, or NULL: an edu that
 * reaches fewer than 32 bits, with no IOMMU to remap, would make dma-direct
 * overflow (and warn) in the exporter's map.
 */
static inline const char *safe_ram_unreachable(const char *bdf)
{
	if (safe_edu_bits() < 32 && !safe_translated(bdf))
		return "the edu reaches fewer than 32 bits and no IOMMU translates";
	return NULL;
}

#endif /* P2PBUF_IMPORTER_SAFETY_LIB_H */
