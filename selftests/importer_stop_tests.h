/* SPDX-License-Identifier: GPL-2.0 */
/*
 * importer_safety_test: no DMA in flight after a failure. An engine timeout
 * (injected with the test-only edu_inject_timeout parameter, which abandons
 * a copy the device has really started) stops the device before anything
 * can be unmapped: the copy still running never lands, the engine refuses
 * later transfers, and binding the device again restores it. Binding it
 * again at once waits for the abandoned copy before the device is a bus
 * master again, so that copy still never lands.
 */
#ifndef P2PBUF_IMPORTER_STOP_TESTS_H
#define P2PBUF_IMPORTER_STOP_TESTS_H

#include "importer_safety_lib.h"

#define INJECT_PARAM	IMP_PARAMS "/edu_inject_timeout"

/*
 * What both tests need: an engine whose timeout can be injected, a lab that
 * may rebind the device, and a zeroed udmabuf the engine reaches, mapped
 * for the CPU in *@cpu (NULL if mmap failed). Returns why the test cannot
 * run, or NULL.
 */
static const char *stop_setup(SAFE_SELF *self, int *dmabuf,
			      int *memfd, unsigned char **cpu)
{
	static char why[128];

	if (!self->has_engine) {
		snprintf(why, sizeof(why), "%s has no DMA engine backend",
			 self->bdf);
		return why;
	}
	if (access(INJECT_PARAM, W_OK))
		return "no " INJECT_PARAM;
	if (!p2pbuf_env("P2PBUF_INITIATOR_BDF"))
		return "rebinding is only done in the lab";
	if (safe_edu_bits() < 32 && !safe_translated(self->bdf)) {
		snprintf(why, sizeof(why), "edu reaches %u bits only",
			 safe_edu_bits());
		return why;
	}
	*dmabuf = imp_udmabuf(SAFE_BUF_SIZE, memfd);
	if (*dmabuf < 0) {
		snprintf(why, sizeof(why), "no udmabuf (%s)",
			 strerror(-*dmabuf));
		return why;
	}
	*cpu = mmap(NULL, SAFE_BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		    *memfd, 0);
	if (*cpu == MAP_FAILED)
		*cpu = NULL;
	else
		memset(*cpu, 0, SAFE_BUF_SIZE);
	return NULL;
}

TEST_F_TIMEOUT(safe, engine_timeout_stops_device, 120)
{
	unsigned char in[512], zero[512], *cpu;
	struct p2pbuf_imp_map m;
	int dmabuf, memfd, cmd, fd2;
	const char *why;
	char bdf[64];
	__u32 h;

	why = stop_setup(self, &dmabuf, &memfd, &cpu);
	if (why)
		SKIP(return, "%s", why);
	ASSERT_NE(NULL, cpu);
	memset(zero, 0, sizeof(zero));
	ASSERT_EQ(0, imp_import(self->fd, dmabuf, 0, &h, NULL));
	ASSERT_EQ(0, imp_map(self->fd, h, &m, NULL, 0));

	/* The copy into the buffer starts and is given up at once. */
	imp_pattern(in, sizeof(in), 60);
	ASSERT_EQ(0, safe_write_str(INJECT_PARAM, "1"));
	EXPECT_EQ(-ETIMEDOUT, imp_dma(self->fd, h, P2PBUF_IMP_DMA_TO_BUF, 0,
				      in, sizeof(in)));
	safe_write_str(INJECT_PARAM, "0");
	cmd = safe_pci_command(self->bdf);
	EXPECT_EQ(0, cmd & SAFE_PCI_COMMAND_MASTER)
		TH_LOG("still a bus master after the timeout (command %#x)", cmd);

	/* Unmap now, while the device's copy (~100 ms) would still run. */
	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_RELEASE, h));
	usleep(1500 * 1000);
	EXPECT_EQ(0, memcmp(cpu, zero, sizeof(zero)))
		TH_LOG("the abandoned copy landed after the ioctl failed");

	/* A failed engine refuses, until the device is bound again. */
	ASSERT_EQ(0, imp_import(self->fd, dmabuf, 0, &h, NULL));
	ASSERT_EQ(0, imp_map(self->fd, h, &m, NULL, 0));
	EXPECT_EQ(-EIO, imp_dma(self->fd, h, P2PBUF_IMP_DMA_TO_BUF, 0, in,
				sizeof(in)));
	EXPECT_EQ(0, imp_handle_op(self->fd, P2PBUF_IMP_RELEASE, h));

	ASSERT_EQ(0, safe_rebind(self->bdf));
	EXPECT_NE(0, safe_pci_command(self->bdf) & SAFE_PCI_COMMAND_MASTER);
	fd2 = imp_open(bdf, sizeof(bdf));
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, imp_import(fd2, dmabuf, 0, &h, NULL));
	ASSERT_EQ(0, imp_map(fd2, h, &m, NULL, 0));
	EXPECT_EQ(0, imp_dma(fd2, h, P2PBUF_IMP_DMA_TO_BUF, 0, in, sizeof(in)));
	EXPECT_EQ(0, memcmp(cpu, in, sizeof(in)));
	close(fd2);
	munmap(cpu, SAFE_BUF_SIZE);
	close(dmabuf);
	close(memfd);
}

/*
 * Rebind right after the timeout, while the abandoned copy (~100 ms) may
 * still be pending in the device: probe must not make the device a bus
 * master before its engine is idle (or reset). Otherwise the copy lands in
 * the buffer it was started for, unmapped since, or the first transfer of
 * the new binding finds the engine busy (-EIO). Catches the missing wait
 * only when the rebind takes less than the copy's ~100 ms.
 */
TEST_F_TIMEOUT(safe, rebind_after_timeout_waits_for_engine, 120)
{
	unsigned char in[512], zero[512], *cpu;
	struct p2pbuf_imp_map m;
	int dmabuf, memfd, fd2;
	const char *why;
	char bdf[64];
	__u32 h;

	why = stop_setup(self, &dmabuf, &memfd, &cpu);
	if (why)
		SKIP(return, "%s", why);
	ASSERT_NE(NULL, cpu);
	memset(zero, 0, sizeof(zero));
	ASSERT_EQ(0, imp_import(self->fd, dmabuf, 0, &h, NULL));
	ASSERT_EQ(0, imp_map(self->fd, h, &m, NULL, 0));

	imp_pattern(in, sizeof(in), 61);
	ASSERT_EQ(0, safe_write_str(INJECT_PARAM, "1"));
	EXPECT_EQ(-ETIMEDOUT, imp_dma(self->fd, h, P2PBUF_IMP_DMA_TO_BUF, 0,
				      in, sizeof(in)));
	safe_write_str(INJECT_PARAM, "0");
	/* Unbinding releases the import; bind again at once. */
	ASSERT_EQ(0, safe_rebind(self->bdf));
	EXPECT_NE(0, safe_pci_command(self->bdf) & SAFE_PCI_COMMAND_MASTER);

	fd2 = imp_open(bdf, sizeof(bdf));
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, imp_import(fd2, dmabuf, 0, &h, NULL));
	ASSERT_EQ(0, imp_map(fd2, h, &m, NULL, 0));
	EXPECT_EQ(0, imp_dma(fd2, h, P2PBUF_IMP_DMA_TO_BUF, 4096, in,
			     sizeof(in)))
		TH_LOG("the engine was still busy after the rebind");
	EXPECT_EQ(0, memcmp(cpu + 4096, in, sizeof(in)));
	usleep(1500 * 1000);
	EXPECT_EQ(0, memcmp(cpu, zero, sizeof(zero)))
		TH_LOG("the abandoned copy landed after the rebind");
	close(fd2);
	munmap(cpu, SAFE_BUF_SIZE);
	close(dmabuf);
	close(memfd);
}

#endif /* P2PBUF_IMPORTER_STOP_TESTS_H */
