/* SPDX-License-Identifier: GPL-2.0 */
/*
 * importer_safety_test: DMA masks and bus mastering. A mapping the engine
 * cannot reach is refused (-ERANGE), never handed to a device that would
 * truncate the address (QEMU's edu with its default 28-bit dma_mask: the lab
 * boots it with P2PBUF_EDU_STOCK=1). Only a device with an engine backend
 * gets bus mastering.
 */
#ifndef P2PBUF_IMPORTER_MASK_TESTS_H
#define P2PBUF_IMPORTER_MASK_TESTS_H

#include "importer_safety_lib.h"

/*
 * A BAR range of the provider: mapped within the edu's reach and read back
 * right by its engine, or refused with -ERANGE because the bus address is
 * beyond it.
 */
TEST_F_TIMEOUT(safe, bar_mapping_within_engine_reach, 120)
{
	const char *pbdf, *expect = p2pbuf_env("P2PBUF_EXPECT_MAP");
	unsigned long long mask = safe_mask(safe_edu_bits());
	struct p2pbuf_imp_seg segs[SAFE_MAX_SEGS];
	unsigned char out[256], *bar;
	struct p2pbuf_imp_map m;
	int exp, dmabuf, ret;
	__u64 start;
	__u32 h, i;

	if (expect && !strcmp(expect, "NOT_SUPPORTED"))
		SKIP(return, "no p2pdma route in this topology");
	if (!self->has_engine)
		SKIP(return, "%s has no DMA engine backend", self->bdf);
	exp = safe_exp_open(&pbdf);
	if (exp < 0)
		SKIP(return, "no p2pbuf_exporter provider (%s)", strerror(-exp));
	start = safe_bar_start(pbdf, 2);
	bar = safe_bar_mmap(pbdf, SAFE_BUF_SIZE);
	ASSERT_NE(MAP_FAILED, bar);
	imp_pattern(bar, SAFE_BUF_SIZE, 50);
	dmabuf = safe_exp_export(exp, 0, SAFE_BUF_SIZE, O_RDWR);
	ASSERT_LE(0, dmabuf);
	ASSERT_EQ(0, imp_import(self->fd, dmabuf, 0, &h, NULL));

	ret = imp_map(self->fd, h, &m, segs, SAFE_MAX_SEGS);
	TH_LOG("edu reaches %u bits (mask %#llx), BAR 2 at %#llx, %s: MAP %d",
	       safe_edu_bits(), mask, (unsigned long long)start,
	       safe_translated(self->bdf) ? "IOMMU" : "no IOMMU", ret);
	if (ret == -ERANGE) {
		/* Only right where no IOMMU remaps the BAR below the mask. */
		EXPECT_FALSE(safe_translated(self->bdf));
		EXPECT_LT(mask, start + SAFE_BUF_SIZE - 1);
		EXPECT_EQ(-ENXIO, imp_handle_op(self->fd, P2PBUF_IMP_UNMAP, h));
	} else {
		ASSERT_EQ(0, ret);
		for (i = 0; i < m.nr_segs && i < SAFE_MAX_SEGS; i++) {
			unsigned long long last = segs[i].addr + segs[i].len - 1;

			if (last > mask)
				TH_LOG("segment %u ends at %#llx, beyond the edu's reach",
				       i, last);
			EXPECT_GE(mask, last);
		}
		memset(out, 0, sizeof(out));
		ASSERT_EQ(0, imp_dma(self->fd, h, P2PBUF_IMP_DMA_FROM_BUF, 4096,
				     out, sizeof(out)));
		EXPECT_EQ(0, memcmp(bar + 4096, out, sizeof(out)))
			TH_LOG("the engine read something else than the BAR");
	}
	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_RELEASE, h));
	close(dmabuf);
	munmap(bar, SAFE_BUF_SIZE);
	close(exp);
}

/*
 * The edu (a backend) is a bus master; a device without a backend bound to
 * the importer (the lab's spare ivshmem) is not.
 */
TEST_F_TIMEOUT(safe, bus_master_only_with_engine, 60)
{
	const char *vbdf = p2pbuf_env("P2PBUF_VFIO_BDF");
	struct p2pbuf_imp_info info;
	char path[PATH_MAX], drv[64];
	int cmd, fd;

	cmd = safe_pci_command(self->bdf);
	ASSERT_LE(0, cmd);
	if (self->has_engine)
		EXPECT_NE(0, cmd & SAFE_PCI_COMMAND_MASTER);
	if (!vbdf)
		SKIP(return, "no spare device (P2PBUF_VFIO_BDF) to bind");
	imp_pci_driver(vbdf, drv, sizeof(drv));
	if (drv[0])
		SKIP(return, "%s is bound to %s", vbdf, drv);
	ASSERT_EQ(0, p2pbuf_pci_bind(vbdf, "p2pbuf_importer"));
	snprintf(path, sizeof(path), "/dev/p2pbuf-imp-%s", vbdf);
	fd = open(path, O_RDWR | O_CLOEXEC);
	EXPECT_LE(0, fd);
	if (fd >= 0) {
		EXPECT_EQ(0, imp_info(fd, &info));
		EXPECT_STREQ("", info.engine);
		close(fd);
	}
	cmd = safe_pci_command(vbdf);
	EXPECT_LE(0, cmd);
	EXPECT_EQ(0, cmd & SAFE_PCI_COMMAND_MASTER)
		TH_LOG("%s has no engine but is a bus master", vbdf);
	EXPECT_EQ(0, p2pbuf_pci_bind(vbdf, ""));
}

#endif /* P2PBUF_IMPORTER_MASK_TESTS_H */
