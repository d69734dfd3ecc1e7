/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pbuf importer: the DMA engine backend interface.
 *
 * A backend drives the DMA engine of one kind of PCI device. The core
 * (dma.c) picks the backend by PCI ID at probe, splits every P2PBUF_IMP_DMA
 * transfer at the mapping's DMA segment boundaries and at @max_xfer, stages
 * the user data in kernel memory, and calls the backend once per piece with
 * the engine lock held. The backend never sees user pointers, scatterlists or
 * dma-buf objects: only a bus address valid for its device and a kernel
 * buffer.
 */
#ifndef P2PBUF_IMP_ENGINE_H
#define P2PBUF_IMP_ENGINE_H

#include <linux/mutex.h>
#include <linux/types.h>

struct pci_dev;
struct p2pbuf_imp_engine;

/**
 * struct p2pbuf_imp_engine_ops - a DMA engine backend
 * @name: backend name reported by P2PBUF_IMP_INFO (< P2PBUF_IMP_NAME_LEN).
 * @max_xfer: largest @len one @to_bus or @from_bus call accepts.
 * @probe: set up the engine of @eng->pdev (map registers, allocate staging
 *	memory) and store private data in @eng->priv. Device-managed resources
 *	are allowed. Return 0 or a negative errno; probe of the PCI device then
 *	fails.
 * @remove: undo @probe. Called from the PCI driver's remove() after every
 *	import of the device has been unmapped; no transfer is running.
 * @to_bus: copy @len bytes from kernel memory @src to bus address @dst.
 * @from_bus: copy @len bytes from bus address @src to kernel memory @dst.
 *
 * @to_bus and @from_bus run with &p2pbuf_imp_engine.lock held, which nests
 * inside the dma_resv lock of the buffer that @dst/@src belong to. They must
 * be synchronous: when they return 0 the device no longer accesses the bus
 * address. They may sleep, must finish in bounded time, and return -ETIMEDOUT
 * when the engine did not complete; the core then marks the engine failed
 * (the device may still be accessing the address, see docs/importer.rst).
 */
struct p2pbuf_imp_engine_ops {
	const char *name;
	size_t max_xfer;
	int (*probe)(struct p2pbuf_imp_engine *eng);
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
 * @failed: an engine operation timed out; every later transfer is -EIO.
 *	Protected by @lock.
 */
struct p2pbuf_imp_engine {
	const struct p2pbuf_imp_engine_ops *ops;
	struct pci_dev *pdev;
	void *priv;
	struct mutex lock;	/* transfers; inside dma_resv */
	bool failed;
};

extern const struct p2pbuf_imp_engine_ops p2pbuf_imp_edu_ops;

#endif /* P2PBUF_IMP_ENGINE_H */
