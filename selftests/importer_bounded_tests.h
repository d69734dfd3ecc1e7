/* SPDX-License-Identifier: GPL-2.0 */
/*
 * importer_safety_test: bounded work under locks the importer does not own.
 * A 1 GiB udmabuf of 4 KiB pages maps (behind an IOMMU: one IOVA segment
 * over 262144 pages) without the importer's classification taking more
 * than a bounded share of the exporter's dma_resv lock; a transfer waiting
 * for a fence does not hold that lock, so the exporter can invalidate
 * meanwhile; and a user copy that cannot complete (a parked page fault)
 * does not hold the file's lock.
 */
#ifndef P2PBUF_IMPORTER_BOUNDED_TESTS_H
#define P2PBUF_IMPORTER_BOUNDED_TESTS_H

#include <linux/dma-buf.h>

#include "importer_safety_lib.h"

#define BIG_SIZE	(1024ULL * 1024 * 1024)
#define UDMABUF_LIMIT	"/sys/module/udmabuf/parameters/size_limit_mb"
/* The soft-lockup detector's default threshold is 20 s: stay well under. */
#define BIG_MAP_MAX_MS	5000
#define CLASSIFY_MAX_NS	(50 * 1000 * 1000LL)

static long long safe_mem_available_kb(void)
{
	char line[256];
	long long kb = -1;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

TEST_F_TIMEOUT(safe, classify_1g_udmabuf, 480)
{
	long long limit, t0, t1, t2, classify_ns, map_ns;
	struct p2pbuf_imp_map m;
	int dmabuf, memfd, trace;
	char old[32];
	__u32 h;

	if (safe_mem_available_kb() < 1228800LL)
		SKIP(return, "needs 1.2 GiB free in the guest (boot with P2PBUF_MEM=2G or more)");
	if (safe_ram_unreachable(self->bdf))
		SKIP(return, "%s", safe_ram_unreachable(self->bdf));
	limit = safe_read_num(UDMABUF_LIMIT);
	if (limit < 0)
		p2pbuf_feature_missing(return, "no %s", UDMABUF_LIMIT);
	snprintf(old, sizeof(old), "%lld", limit);
	ASSERT_EQ(0, safe_write_str(UDMABUF_LIMIT, "1024"));
	t0 = imp_now_ms();
	dmabuf = imp_udmabuf(BIG_SIZE, &memfd);
	safe_write_str(UDMABUF_LIMIT, old);
	ASSERT_LE(0, dmabuf) TH_LOG("1 GiB udmabuf: %s", strerror(-dmabuf));
	TH_LOG("1 GiB udmabuf created in %lld ms", imp_now_ms() - t0);
	ASSERT_EQ(0, imp_import(self->fd, dmabuf, 0, &h, NULL));

	trace = !imp_trace_event("p2pbuf_imp_map", 1) && !imp_trace_clear();
	t1 = imp_now_ms();
	ASSERT_EQ(0, imp_map(self->fd, h, &m, NULL, 0));
	t2 = imp_now_ms();
	EXPECT_EQ(BIG_SIZE, m.length);
	TH_LOG("MAP of 1 GiB (%u segments, %s): %lld ms", m.nr_segs,
	       imp_map_type_name(m.map_type), t2 - t1);
	EXPECT_GT(BIG_MAP_MAX_MS, t2 - t1);
	if (trace) {
		classify_ns = imp_trace_field("p2pbuf_imp_map", NULL, "classify_ns");
		map_ns = imp_trace_field("p2pbuf_imp_map", NULL, "map_ns");
		imp_trace_event("p2pbuf_imp_map", 0);
		TH_LOG("trace: exporter's map %lld ns, importer's classification %lld ns",
		       map_ns, classify_ns);
		EXPECT_LE(0, classify_ns);
		EXPECT_GT(CLASSIFY_MAX_NS, classify_ns);
	} else {
		TH_LOG("no p2pbuf_imp_map tracepoint: classification not timed alone");
	}
	t1 = imp_now_ms();
	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_RELEASE, h));
	TH_LOG("unmap and release: %lld ms", imp_now_ms() - t1);
	close(dmabuf);
	close(memfd);
}

/* drivers/dma-buf/sw_sync.c, which has no uAPI header. */
struct sw_sync_create_fence_data {
	__u32 value;
	char name[32];
	__s32 fence;
};

#define SW_SYNC_IOC_CREATE_FENCE _IOWR('W', 0, struct sw_sync_create_fence_data)
#define SW_SYNC_IOC_INC		 _IOW('W', 1, __u32)

struct dma_thread {
	int imp;
	__u32 handle;
	int ret;
	long long ms;
};

static void *safe_dma_thread(void *p)
{
	struct dma_thread *t = p;
	unsigned char data[64] = { 7 };
	long long t0 = imp_now_ms();

	t->ret = imp_dma(t->imp, t->handle, P2PBUF_IMP_DMA_TO_BUF, 0, data,
			 sizeof(data));
	t->ms = imp_now_ms() - t0;
	return NULL;
}

/*
 * A transfer waits for an unsignalled write fence; meanwhile the exporter
 * takes the dma_resv lock to invalidate, at once. The transfer then finds
 * the import unmapped.
 */
TEST_F_TIMEOUT(safe, fence_wait_without_resv_lock, 120)
{
	struct sw_sync_create_fence_data fd_data = { .value = 1 };
	struct dma_buf_import_sync_file isf = { .flags = DMA_BUF_SYNC_WRITE };
	struct dma_thread t = { .imp = self->fd };
	struct p2pbuf_imp_map m;
	int dev, dmabuf, timeline;
	long long t0, inval_ms;
	pthread_t thr;
	__u32 one = 1;

	if (!self->has_engine)
		SKIP(return, "%s has no DMA engine backend", self->bdf);
	dev = labexp_open();
	if (dev < 0)
		p2pbuf_feature_missing(return, "no lab test exporter %s (%s)", LABEXP_NODE,
				       strerror(-dev));
	if (safe_ram_unreachable(self->bdf))
		SKIP(return, "%s", safe_ram_unreachable(self->bdf));
	p2pbuf_debugfs_mount();
	timeline = open("/sys/kernel/debug/sync/sw_sync", O_RDWR | O_CLOEXEC);
	if (timeline < 0)
		p2pbuf_feature_missing(return, "no sw_sync (%s)", strerror(errno));
	dmabuf = labexp_ioctl(dev, LABEXP_CREATE, SAFE_BUF_SIZE);
	ASSERT_LE(0, dmabuf);
	ASSERT_EQ(0, imp_import(self->fd, dmabuf, 0, &t.handle, NULL));
	ASSERT_EQ(0, imp_map(self->fd, t.handle, &m, NULL, 0));
	snprintf(fd_data.name, sizeof(fd_data.name), "p2pbuf-imp-test");
	ASSERT_EQ(0, ioctl(timeline, SW_SYNC_IOC_CREATE_FENCE, &fd_data));
	isf.fd = fd_data.fence;
	ASSERT_EQ(0, ioctl(dmabuf, DMA_BUF_IOCTL_IMPORT_SYNC_FILE, &isf));

	ASSERT_EQ(0, pthread_create(&thr, NULL, safe_dma_thread, &t));
	usleep(300 * 1000);
	t0 = imp_now_ms();
	EXPECT_EQ(0, labexp_ioctl(dev, LABEXP_INVALIDATE, dmabuf));
	inval_ms = imp_now_ms() - t0;
	EXPECT_GT(1000, inval_ms)
		TH_LOG("the invalidation waited %lld ms for the dma_resv lock",
		       inval_ms);
	ASSERT_EQ(0, ioctl(timeline, SW_SYNC_IOC_INC, &one));
	pthread_join(thr, NULL);
	TH_LOG("invalidation %lld ms; transfer %d after %lld ms", inval_ms,
	       t.ret, t.ms);
	EXPECT_EQ(-ENXIO, t.ret);
	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_RELEASE, t.handle));
	close(fd_data.fence);
	close(timeline);
	close(dmabuf);
	close(dev);
}

struct map_thread {
	int imp;
	__u32 handle;
	struct p2pbuf_imp_seg *segs;
	int ret;
};

static void *safe_map_thread(void *p)
{
	struct map_thread *t = p;
	struct p2pbuf_imp_map m;

	t->ret = imp_map(t->imp, t->handle, &m, t->segs, 4);
	return NULL;
}

/*
 * MAP copies its segments into a page whose fault is parked (as a
 * userfaultfd page nobody serves would be): the file's other ioctls go on.
 */
TEST_F_TIMEOUT(safe, user_copy_outside_file_lock, 120)
{
	struct map_thread t = { .imp = self->fd };
	struct p2pbuf_imp_status st;
	int dev, dmabuf, parked;
	long long t0, status_ms;
	pthread_t thr;
	void *cpu;
	__u32 h2;

	dev = labexp_open();
	if (dev < 0)
		p2pbuf_feature_missing(return, "no lab test exporter %s (%s)", LABEXP_NODE,
				       strerror(-dev));
	if (safe_ram_unreachable(self->bdf))
		SKIP(return, "%s", safe_ram_unreachable(self->bdf));
	dmabuf = labexp_ioctl(dev, LABEXP_CREATE, SAFE_BUF_SIZE);
	ASSERT_LE(0, dmabuf);
	parked = labexp_ioctl(dev, LABEXP_CREATE, 4096);
	ASSERT_LE(0, parked);
	cpu = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, parked, 0);
	ASSERT_NE(MAP_FAILED, cpu);
	t.segs = cpu;
	ASSERT_EQ(0, imp_import(self->fd, dmabuf, 0, &t.handle, NULL));
	ASSERT_EQ(0, imp_import(self->fd, dmabuf, 0, &h2, NULL));

	ASSERT_EQ(0, labexp_ioctl(dev, LABEXP_PARK, 1));
	ASSERT_EQ(0, pthread_create(&thr, NULL, safe_map_thread, &t));
	usleep(300 * 1000);
	t0 = imp_now_ms();
	EXPECT_EQ(0, imp_status(self->fd, h2, &st));
	status_ms = imp_now_ms() - t0;
	labexp_ioctl(dev, LABEXP_PARK, 0);
	pthread_join(thr, NULL);
	TH_LOG("STATUS took %lld ms while MAP's copy-out was parked", status_ms);
	EXPECT_GT(1000, status_ms);
	EXPECT_EQ(0, t.ret);
	EXPECT_NE(0U, t.segs[0].len);
	ASSERT_EQ(0, imp_status(self->fd, t.handle, &st));
	EXPECT_NE(0U, st.state & P2PBUF_IMP_STATE_MAPPED);
	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_RELEASE, t.handle));
	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_RELEASE, h2));
	munmap(cpu, 4096);
	close(parked);
	close(dmabuf);
	close(dev);
}

#endif /* P2PBUF_IMPORTER_BOUNDED_TESTS_H */
