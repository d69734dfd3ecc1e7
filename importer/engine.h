/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pbuf importer: the DMA engine backend interface.
 *
 * A backend drives the DMA engine of one kind of PCI device. The core
 * (dma.c) picks the backend by PCI ID at probe, refuses a P2PBUF_IMP_DMA
 * transfer longer than @max_xfer (it does not split it), cuts the transfer
 * at the mapping's DMA segment boundaries, stages the user data in kernel
 * memory, and calls the backend once per piece with the engine lock held.
 * The backend never sees user pointers, scatterlists or dma-buf objects:
 * only a bus address valid for its device and a kernel buffer.
 */
#ifndef P2PBUF_IMP_ENGINE_H
#define P2PBUF_IMP_ENGINE_H

#include <linux/mutex.h>
#include <linux/types.h>

struct dentry;
struct pci_dev;
struct p2pbuf_imp_engine;

/**
 * struct p2pbuf_imp_engine_ops - a DMA engine backend
 * @name: backend name reported by P2PBUF_IMP_INFO (< P2PBUF_IMP_NAME_LEN).
 * @max_xfer: largest @len one @to_bus or @from_bus call accepts.
 * @dma_mask: the addresses the device's engine can reach. Called before
 *	@probe; the core sets it as the device's streaming and coherent DMA
 *	mask, so that a mapping the engine cannot reach is refused instead of
 *	being truncated by the device.
 * @probe: set up the engine of @eng->pdev (map registers, allocate staging
 *	memory) and store private data in @eng->priv. Device-managed resources
 *	are allowed. Return 0 or a negative errno; probe of the PCI device then
 *	fails.
 * @quiesce: optional; wait, bounded, until the engine runs no command.
 *	Called after @probe and before bus mastering is enabled: a command an
 *	earlier binding abandoned on a timeout may still be running, and would
 *	reach memory as soon as the device is a bus master again. Return 0
 *	when idle, -ETIMEDOUT when still busy (the core then resets the
 *	function if it can and asks again).
 * @remove: undo @probe. Called from the PCI driver's remove() after every
 *	import of the device has been unmapped; no transfer is running.
 * @to_bus: copy @len bytes from kernel memory @src to bus address @dst.
 * @from_bus: copy @len bytes from bus address @src to kernel memory @dst.
 *
 * @to_bus and @from_bus run with &p2pbuf_imp_engine.lock held, which nests
 * inside the dma_resv lock of the buffer that @dst/@src belong to. They must
 * be synchronous: when they return 0 the device no longer accesses the bus
 * address. They may sleep, must finish in bounded time, and return -ETIMEDOUT
 * when the engine did not complete. The device may then still be accessing
 * the address: the core stops it (clears bus mastering) before it drops the
 * engine and dma_resv locks, so nothing is unmapped under a running engine,
 * and marks the engine failed (docs/importer.rst, "Engine timeout"). The bound of each
 * wait comes from p2pbuf_imp_engine_wait_us(), which lets the tests force a
 * timeout.
 */
struct p2pbuf_imp_engine_ops {
	const char *name;
	size_t max_xfer;
	u64 (*dma_mask)(struct p2pbuf_imp_engine *eng);
	int (*probe)(struct p2pbuf_imp_engine *eng);
	int (*quiesce)(struct p2pbuf_imp_engine *eng);
	void (*remove)(struct p2pbuf_imp_engine *eng);
	int (*to_bus)(struct p2pbuf_imp_engine *eng, dma_addr_t dst,
		      const void *src, size_t len);
	int (*from_bus)(struct p2pbuf_imp_engine *eng, void *dst,
			dma_addr_t src, size_t len);
};

/**
 * struct p2pbuf_imp_engine - the DMA engine of one bound device
 * @ops: the backend, NULL when the device has none.
 * @pdev: the PCI device.
 * @priv: backend private data.
 * @lock: serialises transfers (the device has one engine). Taken inside the
 *	dma_resv lock of the buffer being accessed; never held across user
 *	memory access, because mmap_lock nests outside every dma_resv lock.
 * @failed: an engine operation timed out and the device was stopped; every
 *	later transfer is -EIO until the device is bound again. Protected by
 *	@lock.
 */
struct p2pbuf_imp_engine {
	const struct p2pbuf_imp_engine_ops *ops;
	struct pci_dev *pdev;
	void *priv;
	struct mutex lock;	/* transfers; inside dma_resv */
	bool failed;
};

extern const struct p2pbuf_imp_engine_ops p2pbuf_imp_edu_ops;

/* dma.c */
unsigned long p2pbuf_imp_engine_wait_us(unsigned long limit_us);
void p2pbuf_imp_engine_debugfs_init(struct dentry *root);

#endif /* P2PBUF_IMP_ENGINE_H */
