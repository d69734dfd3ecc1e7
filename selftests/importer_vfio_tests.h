/* SPDX-License-Identifier: GPL-2.0 */
/*
 * importer_test, "vfio" fixture: vfio-pci's dma-buf exporter revoking imports
 * when the vfio device is closed.
 */
#ifndef P2PBUF_IMPORTER_VFIO_TESTS_H
#define P2PBUF_IMPORTER_VFIO_TESTS_H

#include "importer_lib.h"

/* vfio-pci as the exporter. */

/*
 * The map type the lab's topologies give for the vfio ivshmem (on the root
 * bus) and the initiator: never a common upstream bridge, so the host bridge
 * decides - allowed on the Zen CPU, not allowed with the switch topology's
 * "-cpu max" or on Intel. -1: unknown topology, not asserted.
 */
static int vfio_expected_map(void)
{
	const char *topo = p2pbuf_env("P2PBUF_TOPOLOGY");

	if (!topo)
		return -1;
	if (!strcmp(topo, "switch") || !strcmp(topo, "intel"))
		return P2PBUF_MAP_NOT_SUPPORTED;
	if (!strcmp(topo, "rp-zen"))
		return P2PBUF_MAP_HOST_BRIDGE_DIRECT;
	if (!strcmp(topo, "rp-zen-iommu"))
		return P2PBUF_MAP_HOST_BRIDGE_IOVA;
	return -1;
}

#define VFIO_REGION	2
#define VFIO_LEN	(64 * 1024U)

FIXTURE(vfio) {
	int imp;
	char bdf[64];
	struct p2pbuf_imp_info info;
	struct imp_vfio v;
	int expect;
};

FIXTURE_SETUP(vfio)
{
	const char *vbdf = p2pbuf_env("P2PBUF_VFIO_BDF");
	char why[128];
	int ret;

	self->v.device = -1;
	self->v.group = -1;
	self->v.container = -1;
	self->v.bdf[0] = '\0';
	self->imp = imp_open(self->bdf, sizeof(self->bdf));
	if (self->imp < 0)
		SKIP(return, "no p2pbuf_importer device (%s)", strerror(-self->imp));
	if (!vbdf) {
		close(self->imp);
		self->imp = -1;
		SKIP(return, "P2PBUF_VFIO_BDF not set");
	}
	ASSERT_EQ(0, imp_info(self->imp, &self->info));
	ret = imp_vfio_open(&self->v, vbdf, why, sizeof(why));
	if (ret) {
		close(self->imp);
		self->imp = -1;
		p2pbuf_feature_missing(return, "%s: %s", why, strerror(-ret));
	}
	self->expect = vfio_expected_map();
}

FIXTURE_TEARDOWN(vfio)
{
	imp_vfio_release(&self->v);
	if (self->imp >= 0)
		close(self->imp);
}

/* Wait for one event of each of two handles. */
static void expect_events(struct __test_metadata *_metadata, int fd,
			  __u32 h1, __u32 h2)
{
	struct p2pbuf_imp_event ev;
	int seen1 = 0, seen2 = 0;
	__u64 last_seq = 0;

	while (!seen1 || !seen2) {
		ASSERT_EQ(0, imp_read_event(fd, &ev, 5000));
		EXPECT_EQ((__u64)P2PBUF_IMP_EVENT_INVALIDATED, ev.type);
		EXPECT_LT(last_seq, ev.seq);
		EXPECT_LE(1U, ev.invalidations);
		last_seq = ev.seq;
		if (ev.handle == h1)
			seen1++;
		else if (ev.handle == h2)
			seen2++;
		else
			ASSERT_TRUE(0) TH_LOG("event for unknown handle %u", ev.handle);
	}
}

/*
 * Dynamic and pinned imports of a vfio-pci dma-buf; closing the vfio device
 * revokes them, which completes because the importer unmaps in the callback.
 */
TEST_F_TIMEOUT(vfio, revoke_on_device_close, 120)
{
	unsigned char in[256], out[256], *bar = MAP_FAILED;
	struct p2pbuf_imp_status st;
	struct p2pbuf_imp_map m1, m2;
	int dmabuf, ret1, ret2, mapped;
	long long t0, elapsed;
	__u32 h1, h2;
	__u64 size;

	dmabuf = imp_vfio_dmabuf(&self->v, VFIO_REGION, 0, VFIO_LEN);
	ASSERT_LE(0, dmabuf) TH_LOG("VFIO_DEVICE_FEATURE_DMA_BUF: %s",
				    strerror(-dmabuf));
	ASSERT_EQ(0, imp_import(self->imp, dmabuf, 0, &h1, &size));
	EXPECT_EQ(VFIO_LEN, size);
	ASSERT_EQ(0, imp_import(self->imp, dmabuf, P2PBUF_IMP_IMPORT_PINNED,
				&h2, NULL));
	if (imp_attach_count(dmabuf, self->bdf) != -ENOENT)
		EXPECT_EQ(2, imp_attach_count(dmabuf, self->bdf));

	ret1 = imp_map(self->imp, h1, &m1, NULL, 0);
	ret2 = imp_map(self->imp, h2, &m2, NULL, 0);
	EXPECT_EQ(ret1, ret2);
	mapped = !ret1;
	if (self->expect == P2PBUF_MAP_NOT_SUPPORTED) {
		/* dma_buf_phys_vec_to_sgt(): p2pdma cannot route: -EINVAL. */
		EXPECT_EQ(-EINVAL, ret1);
	} else if (self->expect >= 0) {
		ASSERT_EQ(0, ret1);
		EXPECT_MAP_TYPE(self->expect, m1.map_type);
		EXPECT_EQ(m1.map_type, m2.map_type);
		EXPECT_EQ(VFIO_LEN, m1.length);
	} else {
		TH_LOG("unknown topology: map %d, type %s, not asserted", ret1,
		       ret1 ? "-" : imp_map_type_name(m1.map_type));
	}

	if (mapped && self->info.engine[0]) {
		bar = imp_vfio_mmap(&self->v, VFIO_REGION, VFIO_LEN);
		ASSERT_NE(MAP_FAILED, bar);
		imp_pattern(in, sizeof(in), 3);
		ASSERT_EQ(0, imp_dma(self->imp, h1, P2PBUF_IMP_DMA_TO_BUF, 4096 + 8,
				     in, sizeof(in)));
		EXPECT_EQ(0, memcmp(bar + 4096 + 8, in, sizeof(in)));
		imp_pattern(bar + 8192, sizeof(out), 4);
		ASSERT_EQ(0, imp_dma(self->imp, h2, P2PBUF_IMP_DMA_FROM_BUF, 8192,
				     out, sizeof(out)));
		EXPECT_EQ(0, memcmp(bar + 8192, out, sizeof(out)));
		munmap(bar, VFIO_LEN);
	}

	imp_drain_events(self->imp);
	t0 = imp_now_ms();
	imp_vfio_close(&self->v);
	elapsed = imp_now_ms() - t0;
	EXPECT_GT(10000, elapsed) TH_LOG("closing the vfio device took %lld ms",
					 elapsed);

	expect_events(_metadata, self->imp, h1, h2);
	ASSERT_EQ(0, imp_status(self->imp, h1, &st));
	EXPECT_EQ(P2PBUF_IMP_STATE_INVALIDATED, st.state);
	EXPECT_EQ(0U, st.nr_segs);
	EXPECT_EQ(0U, st.length);
	EXPECT_LE(1U, st.invalidations);
	ASSERT_EQ(0, imp_status(self->imp, h2, &st));
	/* Pinned, yet unpinned by the revoke. */
	EXPECT_EQ(P2PBUF_IMP_STATE_INVALIDATED, st.state);

	/* Revoked for good: the exporter's -ENODEV, no DMA. */
	EXPECT_EQ(-ENODEV, imp_map(self->imp, h1, &m1, NULL, 0));
	EXPECT_EQ(-ENODEV, imp_map(self->imp, h2, &m2, NULL, 0));
	EXPECT_EQ(self->info.engine[0] ? -ENXIO : -EOPNOTSUPP,
		  imp_dma(self->imp, h1, P2PBUF_IMP_DMA_FROM_BUF, 0, out, 16));
	ASSERT_EQ(0, imp_status(self->imp, h2, &st));
	EXPECT_EQ(P2PBUF_IMP_STATE_INVALIDATED, st.state);

	EXPECT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h1));
	EXPECT_EQ(0, imp_handle_op(self->imp, P2PBUF_IMP_RELEASE, h2));
	if (imp_attach_count(dmabuf, self->bdf) != -ENOENT)
		EXPECT_EQ(0, imp_attach_count(dmabuf, self->bdf));
	close(dmabuf);
}

/* The exporter's refusal is the ioctl's errno: vfio-pci refuses a revoked buffer. */
TEST_F(vfio, import_revoked_refused)
{
	__u32 h;
	int dmabuf;

	dmabuf = imp_vfio_dmabuf(&self->v, VFIO_REGION, 0, VFIO_LEN);
	ASSERT_LE(0, dmabuf);
	imp_vfio_close(&self->v);
	EXPECT_EQ(-ENODEV, imp_import(self->imp, dmabuf, 0, &h, NULL));
	EXPECT_EQ(-ENODEV, imp_import(self->imp, dmabuf,
				      P2PBUF_IMP_IMPORT_PINNED, &h, NULL));
	close(dmabuf);
}

#endif /* P2PBUF_IMPORTER_VFIO_TESTS_H */
