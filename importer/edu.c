// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf importer: DMA engine backend for QEMU's "edu" educational device
 * (1234:11e8, hw/misc/edu.c).
 *
 * edu copies between a bus address and its 4 KiB internal buffer at device
 * address 0x40000; it cannot copy between two bus addresses, and the CPU
 * cannot reach the internal buffer. Every copy, in either direction, is
 * therefore two edu commands, staged through the internal buffer and a
 * coherent bounce buffer that the CPU reads and writes:
 *
 *   to_bus:   bounce -> edu buffer (cmd 1), edu buffer -> @dst (cmd 3)
 *   from_bus: @src -> edu buffer (cmd 1), edu buffer -> bounce (cmd 3)
 *
 * Each command completes about 100 ms (QEMU virtual clock) after it is
 * written; completion is polled with a sleeping wait, bounded by
 * p2pbuf_imp_engine_wait_us(). QEMU 7.2
 * aborts the whole machine when a transfer's end reaches the end of the
 * internal buffer, so transfers are at most 4095 bytes and always start at
 * its beginning.
 *
 * edu's DMA reaches only the addresses its "dma_mask" property allows, and
 * silently truncates the others (QEMU: edu_clamp_addr()). The property
 * defaults to 28 bits, so that is this backend's DMA mask too unless the
 * edu_dma_bits parameter says what the machine configured (the lab sets
 * dma_mask=0xffffffffffffffff and edu_dma_bits=64).
 */
#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/iopoll.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>
#include <linux/string.h>

#include "engine.h"

#define P2PBUF_IMP_EDU_BAR		0
#define P2PBUF_IMP_EDU_ID		0x00
#define P2PBUF_IMP_EDU_ID_MAGIC		0xed
#define P2PBUF_IMP_EDU_DMA_SRC		0x80
#define P2PBUF_IMP_EDU_DMA_DST		0x88
#define P2PBUF_IMP_EDU_DMA_CNT		0x90
#define P2PBUF_IMP_EDU_DMA_CMD		0x98
#define P2PBUF_IMP_EDU_CMD_RUN		BIT_ULL(0)
#define P2PBUF_IMP_EDU_CMD_TO_PCI	BIT_ULL(1)	/* else from PCI */
#define P2PBUF_IMP_EDU_BUF_ADDR		0x40000
#define P2PBUF_IMP_EDU_BUF_SIZE		4096
#define P2PBUF_IMP_EDU_MAX_XFER		(P2PBUF_IMP_EDU_BUF_SIZE - 1)
#define P2PBUF_IMP_EDU_POLL_US		2000
#define P2PBUF_IMP_EDU_TIMEOUT_US	(5 * USEC_PER_SEC)
/* QEMU's default of the edu "dma_mask" property (hw/misc/edu.c). */
#define P2PBUF_IMP_EDU_DMA_BITS		28

static unsigned int p2pbuf_imp_edu_dma_bits = P2PBUF_IMP_EDU_DMA_BITS;
module_param_named(edu_dma_bits, p2pbuf_imp_edu_dma_bits, uint, 0444);
MODULE_PARM_DESC(edu_dma_bits,
		 "DMA address bits of edu devices, as their QEMU dma_mask property allows (24-64, default 28, QEMU's default)");

/*
 * Test only (selftests/importer_stop_tests.h): the next N copies to a bus
 * address are abandoned right after the device started them, as if the
 * engine had timed out, while the device really is still copying.
 */
static unsigned int p2pbuf_imp_edu_inject_timeout;
module_param_named(edu_inject_timeout, p2pbuf_imp_edu_inject_timeout, uint,
		   0600);
MODULE_PARM_DESC(edu_inject_timeout,
		 "test only: abandon the next N edu copies to a bus address as timed out (default 0)");

/**
 * struct p2pbuf_imp_edu - edu backend state
 * @regs: BAR0.
 * @bounce: coherent staging buffer of P2PBUF_IMP_EDU_BUF_SIZE bytes.
 * @bounce_dma: its DMA address for the edu device.
 */
struct p2pbuf_imp_edu {
	void __iomem *regs;
	void *bounce;
	dma_addr_t bounce_dma;
};

/*
 * One edu DMA command; returns when the device has finished it, or with
 * -ETIMEDOUT while it may still run (@abandon: at once, for a test).
 */
static int p2pbuf_imp_edu_run(struct p2pbuf_imp_edu *edu, u64 src, u64 dst,
			      u64 len, u64 cmd, bool abandon)
{
	unsigned long wait_us;
	u64 val;

	/* Registers written while a command runs are ignored by the device. */
	if (readq(edu->regs + P2PBUF_IMP_EDU_DMA_CMD) & P2PBUF_IMP_EDU_CMD_RUN)
		return -EIO;
	/*
	 * edu accepts only 32- and 64-bit accesses. Without native writeq()
	 * the upper halves are lost, which the DMA mask allows for.
	 */
	writeq(src, edu->regs + P2PBUF_IMP_EDU_DMA_SRC);
	writeq(dst, edu->regs + P2PBUF_IMP_EDU_DMA_DST);
	writeq(len, edu->regs + P2PBUF_IMP_EDU_DMA_CNT);
	writeq(cmd | P2PBUF_IMP_EDU_CMD_RUN,
	       edu->regs + P2PBUF_IMP_EDU_DMA_CMD);
	wait_us = p2pbuf_imp_engine_wait_us(P2PBUF_IMP_EDU_TIMEOUT_US);
	if (abandon)
		return -ETIMEDOUT;
	return readq_poll_timeout(edu->regs + P2PBUF_IMP_EDU_DMA_CMD, val,
				  !(val & P2PBUF_IMP_EDU_CMD_RUN),
				  P2PBUF_IMP_EDU_POLL_US, wait_us);
}

static int p2pbuf_imp_edu_to_bus(struct p2pbuf_imp_engine *eng, dma_addr_t dst,
				 const void *src, size_t len)
{
	struct p2pbuf_imp_edu *edu = eng->priv;
	unsigned int inject;
	int ret;

	lockdep_assert_held(&eng->lock);
	if (WARN_ON_ONCE(!len || len > P2PBUF_IMP_EDU_MAX_XFER))
		return -EINVAL;

	/* writeq() orders this memcpy() before the device reads the bounce. */
	memcpy(edu->bounce, src, len);
	ret = p2pbuf_imp_edu_run(edu, edu->bounce_dma, P2PBUF_IMP_EDU_BUF_ADDR,
				 len, 0, false);
	if (ret)
		return ret;
	/* Test only; racing a sysfs write merely injects one more or less. */
	inject = READ_ONCE(p2pbuf_imp_edu_inject_timeout);
	if (inject)
		WRITE_ONCE(p2pbuf_imp_edu_inject_timeout, inject - 1);
	return p2pbuf_imp_edu_run(edu, P2PBUF_IMP_EDU_BUF_ADDR, dst, len,
				  P2PBUF_IMP_EDU_CMD_TO_PCI, inject);
}

static int p2pbuf_imp_edu_from_bus(struct p2pbuf_imp_engine *eng, void *dst,
				   dma_addr_t src, size_t len)
{
	struct p2pbuf_imp_edu *edu = eng->priv;
	int ret;

	lockdep_assert_held(&eng->lock);
	if (WARN_ON_ONCE(!len || len > P2PBUF_IMP_EDU_MAX_XFER))
		return -EINVAL;

	ret = p2pbuf_imp_edu_run(edu, src, P2PBUF_IMP_EDU_BUF_ADDR, len, 0,
				 false);
	if (ret)
		return ret;
	ret = p2pbuf_imp_edu_run(edu, P2PBUF_IMP_EDU_BUF_ADDR, edu->bounce_dma,
				 len, P2PBUF_IMP_EDU_CMD_TO_PCI, false);
	if (ret)
		return ret;
	/* readq() orders the completion before this memcpy() reads. */
	memcpy(dst, edu->bounce, len);
	return 0;
}

static u64 p2pbuf_imp_edu_dma_mask(struct p2pbuf_imp_engine *eng)
{
	/*
	 * Without native 64-bit MMIO, writeq() is two 32-bit writes
	 * (io-64-nonatomic-lo-hi.h), and edu takes a 32-bit write at a
	 * register's offset as the whole register and ignores the one at
	 * offset + 4: only 32 address bits reach the device.
	 */
	unsigned int max = IS_ENABLED(CONFIG_64BIT) ? 64 : 32;

	return DMA_BIT_MASK(clamp(p2pbuf_imp_edu_dma_bits, 24U, max));
}

static int p2pbuf_imp_edu_probe(struct p2pbuf_imp_engine *eng)
{
	struct pci_dev *pdev = eng->pdev;
	struct p2pbuf_imp_edu *edu;
	u32 id;

	edu = devm_kzalloc(&pdev->dev, sizeof(*edu), GFP_KERNEL);
	if (!edu)
		return -ENOMEM;
	edu->regs = pcim_iomap_region(pdev, P2PBUF_IMP_EDU_BAR, KBUILD_MODNAME);
	if (IS_ERR(edu->regs))
		return PTR_ERR(edu->regs);
	id = readl(edu->regs + P2PBUF_IMP_EDU_ID);
	if ((id & 0xff) != P2PBUF_IMP_EDU_ID_MAGIC) {
		dev_err(&pdev->dev, "not an edu device (id %#x)\n", id);
		return -ENODEV;
	}
	edu->bounce = dma_alloc_coherent(&pdev->dev, P2PBUF_IMP_EDU_BUF_SIZE,
					 &edu->bounce_dma, GFP_KERNEL);
	if (!edu->bounce)
		return -ENOMEM;
	eng->priv = edu;
	return 0;
}

/*
 * A command abandoned on a timeout by an earlier binding still completes
 * about 100 ms after it was started (without bus mastering its access is
 * dropped); wait for that before the device becomes a bus master again.
 */
static int p2pbuf_imp_edu_quiesce(struct p2pbuf_imp_engine *eng)
{
	struct p2pbuf_imp_edu *edu = eng->priv;
	u64 val;

	return readq_poll_timeout(edu->regs + P2PBUF_IMP_EDU_DMA_CMD, val,
				  !(val & P2PBUF_IMP_EDU_CMD_RUN),
				  P2PBUF_IMP_EDU_POLL_US,
				  P2PBUF_IMP_EDU_TIMEOUT_US);
}

static void p2pbuf_imp_edu_remove(struct p2pbuf_imp_engine *eng)
{
	struct p2pbuf_imp_edu *edu = eng->priv;

	dma_free_coherent(&eng->pdev->dev, P2PBUF_IMP_EDU_BUF_SIZE, edu->bounce,
			  edu->bounce_dma);
}

/* The edu backend, selected for 1234:11e8 by dma.c. */
const struct p2pbuf_imp_engine_ops p2pbuf_imp_edu_ops = {
	.name		= "edu",
	.max_xfer	= P2PBUF_IMP_EDU_MAX_XFER,
	.dma_mask	= p2pbuf_imp_edu_dma_mask,
	.probe		= p2pbuf_imp_edu_probe,
	.quiesce	= p2pbuf_imp_edu_quiesce,
	.remove		= p2pbuf_imp_edu_remove,
	.to_bus		= p2pbuf_imp_edu_to_bus,
	.from_bus	= p2pbuf_imp_edu_from_bus,
};
