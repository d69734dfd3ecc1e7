// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf importer: the DMA engine core. Picks a backend by PCI ID and runs
 * P2PBUF_IMP_DMA transfers through a mapped import.
 *
 * A transfer holds the buffer's dma_resv lock from the check that the import
 * is mapped until the engine has finished, and takes the engine lock inside
 * it. An exporter's invalidate_mappings, which runs under the same dma_resv
 * lock, therefore never overlaps a transfer and can unmap at once (attach.c).
 * The buffer's fences are waited for before the lock is taken, not under
 * it, so an exporter is never kept waiting for the lock by someone else's
 * fence. User memory is copied by the ioctl before the file's lock is taken
 * and after it is dropped (cdev.c).
 *
 * When the engine times out the device may still be copying. The core then
 * stops the device - clears bus mastering, so that nothing it still issues
 * reaches memory - before it drops the locks, i.e. before an invalidation
 * or a release can unmap the address the device was given.
 */
#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/jiffies.h>
#include <linux/minmax.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>

#include "p2pbuf_importer.h"
#include "trace.h"

/* How long a transfer waits for the buffer's fences before -ETIMEDOUT. */
#define P2PBUF_IMP_FENCE_TIMEOUT_MS	10000

/* QEMU's vendor ID for its emulated devices (include/hw/pci/pci.h in QEMU). */
#define P2PBUF_IMP_VENDOR_QEMU	0x1234

/*
 * Test only (debugfs "force_engine_timeouts", not an ABI): while positive,
 * every engine command started consumes one and its wait gives up at once.
 */
static atomic_t p2pbuf_imp_forced_timeouts = ATOMIC_INIT(0);

/**
 * p2pbuf_imp_engine_wait_us() - how long a backend may wait for one command
 * @limit_us: the backend's own bound
 *
 * Backends call this once per command they start, after starting it. It
 * returns @limit_us, except while the test-only debugfs counter
 * "force_engine_timeouts" is positive: then it consumes one count and
 * returns 1, so that the backend gives up waiting for a command the device
 * is still running. That is the real timeout path, device still busy
 * included, without a hung device (docs/importer.rst).
 *
 * Return: the wait in microseconds, never 0 (read_poll_timeout()'s "forever").
 */
unsigned long p2pbuf_imp_engine_wait_us(unsigned long limit_us)
{
	if (atomic_dec_if_positive(&p2pbuf_imp_forced_timeouts) >= 0)
		return 1;
	return limit_us;
}

/**
 * p2pbuf_imp_engine_debugfs_init() - create the engine's debugfs files
 * @root: the module's debugfs directory
 */
void p2pbuf_imp_engine_debugfs_init(struct dentry *root)
{
	debugfs_create_atomic_t("force_engine_timeouts", 0600, root,
				&p2pbuf_imp_forced_timeouts);
}

/* Devices with a DMA engine backend. */
static const struct p2pbuf_imp_backend {
	unsigned short vendor;
	unsigned short device;
	const struct p2pbuf_imp_engine_ops *ops;
} p2pbuf_imp_backends[] = {
	{ P2PBUF_IMP_VENDOR_QEMU, 0x11e8, &p2pbuf_imp_edu_ops },	/* QEMU edu */
};

/*
 * Before bus mastering is enabled, and before an engine that timed out is
 * torn down, the engine must be idle: after an engine timeout the binding
 * only cleared bus mastering (engine_stop()), so the abandoned command may
 * still be pending in the device and would reach memory, at an address
 * unmapped since, once it is a bus master again. Wait for the engine; if
 * it stays busy, reset the function (probe and remove() hold the device
 * lock) and wait again. -EBUSY if it is still busy: probe then refuses to
 * bind, remove() reports it.
 */
static int p2pbuf_imp_engine_quiesce(struct p2pbuf_imp_engine *eng,
				     const struct p2pbuf_imp_engine_ops *ops)
{
	struct device *dev = &eng->pdev->dev;
	int ret, reset;

	if (!ops->quiesce)
		return 0;
	/* Whatever an earlier driver left, nothing reaches memory meanwhile. */
	pci_clear_master(eng->pdev);
	ret = ops->quiesce(eng);
	if (!ret)
		return 0;
	dev_warn(dev, "%s engine busy (%d), resetting the function\n",
		 ops->name, ret);
	reset = pci_reset_function_locked(eng->pdev);
	if (reset) {
		dev_err(dev, "%s function reset %s (%d)\n", ops->name,
			reset == -ENOTTY ? "not supported" : "failed", reset);
		return -EBUSY;
	}
	ret = ops->quiesce(eng);
	if (ret)
		dev_err(dev, "%s engine still busy after the reset (%d)\n",
			ops->name, ret);
	return ret ? -EBUSY : 0;
}

/**
 * p2pbuf_imp_engine_probe() - set up the DMA engine of a device, if it has one
 * @eng: the engine to set up; @eng->lock is initialised by the caller
 * @pdev: the device being probed
 *
 * A device with a backend gets the backend's DMA mask, segments of any length
 * and, once its engine is idle, bus mastering. A device without one gets
 * @eng->ops NULL and neither: it keeps the PCI core's default 32-bit mask, is
 * never made a bus master, and still imports and maps (the mapping is for show,
 * nothing accesses it).
 *
 * Context: The PCI driver's probe(); the device lock is held.
 * Return: 0, -EBUSY (the engine stays busy, even after a function reset), or
 * the error of dma_set_mask_and_coherent() or the backend's probe.
 */
int p2pbuf_imp_engine_probe(struct p2pbuf_imp_engine *eng,
			    struct pci_dev *pdev)
{
	const struct p2pbuf_imp_backend *be;
	int ret;

	eng->pdev = pdev;
	for (be = p2pbuf_imp_backends;
	     be < p2pbuf_imp_backends + ARRAY_SIZE(p2pbuf_imp_backends); be++) {
		if (pdev->vendor != be->vendor || pdev->device != be->device)
			continue;
		/* Before the backend's probe allocates coherent memory. */
		ret = dma_set_mask_and_coherent(&pdev->dev,
						be->ops->dma_mask(eng));
		if (ret)
			return ret;
		/*
		 * A transfer is at most max_xfer bytes (longer ones are
		 * refused, not split) and the core cuts it at the mapping's
		 * segment boundaries, so the backend gets at most max_xfer
		 * bytes inside one segment whatever the segments' lengths.
		 * Segments may therefore be of any length: say so, or
		 * exporters that honour the default 64 KiB (and DMA-API
		 * debug, for those that do not) would object.
		 */
		dma_set_max_seg_size(&pdev->dev, UINT_MAX);
		ret = be->ops->probe(eng);
		if (ret)
			return ret;
		ret = p2pbuf_imp_engine_quiesce(eng, be->ops);
		if (ret) {
			if (be->ops->remove)
				be->ops->remove(eng);
			return ret;
		}
		eng->ops = be->ops;
		pci_set_master(pdev);
		break;
	}
	return 0;
}

/**
 * p2pbuf_imp_engine_remove() - tear down the DMA engine of a device
 * @eng: the engine
 *
 * After an engine timeout the abandoned command may still be pending in the
 * device: wait for it (or reset the function) before the staging memory is
 * freed and before another driver may make the device a bus master again.
 *
 * Context: From the PCI driver's remove() or failed probe, with the device
 * lock held, after every import of the device has been unmapped: no transfer
 * of this driver can be running.
 */
void p2pbuf_imp_engine_remove(struct p2pbuf_imp_engine *eng)
{
	if (!eng->ops)
		return;
	pci_clear_master(eng->pdev);
	if (eng->failed && p2pbuf_imp_engine_quiesce(eng, eng->ops))
		dev_err(&eng->pdev->dev,
			"%s engine busy at unbind: a command it abandoned may still run\n",
			eng->ops->name);
	if (eng->ops->remove)
		eng->ops->remove(eng);
}

/*
 * The engine did not complete: stop the device before anything it may
 * still be accessing can be unmapped. Clearing bus mastering is a
 * non-posted config write, so the device has taken it when this returns;
 * a function reset would need the device lock, which remove() holds while
 * it waits for this file's lock. The device stays stopped until it is
 * bound again.
 */
static void p2pbuf_imp_engine_stop(struct p2pbuf_imp_engine *eng)
{
	lockdep_assert_held(&eng->lock);

	pci_clear_master(eng->pdev);
	eng->failed = true;
	trace_p2pbuf_imp_engine_stop(&eng->pdev->dev, eng->ops->name);
	dev_err(&eng->pdev->dev,
		"%s engine timed out: bus mastering off until the device is bound again\n",
		eng->ops->name);
}

/*
 * Run one transfer of @len bytes (at most the backend's max_xfer, checked
 * by the ioctl) at @offset of the mapping: one backend call per mapping
 * segment the range touches, each within that segment.
 */
static int p2pbuf_imp_engine_xfer(struct p2pbuf_imp_engine *eng,
				  struct sg_table *sgt, u64 offset,
				  void *kbuf, size_t len, bool to_buf)
{
	const struct p2pbuf_imp_engine_ops *ops = eng->ops;
	struct scatterlist *sg;
	size_t done = 0;
	unsigned int i;
	int ret = 0;

	mutex_lock(&eng->lock);
	if (eng->failed) {
		ret = -EIO;
		goto out_unlock;
	}
	for_each_sgtable_dma_sg(sgt, sg, i) {
		u64 seg_len = sg_dma_len(sg);
		dma_addr_t addr;
		size_t piece;

		if (offset >= seg_len) {
			offset -= seg_len;
			continue;
		}
		addr = sg_dma_address(sg) + offset;
		piece = min_t(u64, len - done, seg_len - offset);
		if (to_buf)
			ret = ops->to_bus(eng, addr, kbuf + done, piece);
		else
			ret = ops->from_bus(eng, kbuf + done, addr, piece);
		if (ret) {
			if (ret == -ETIMEDOUT)
				p2pbuf_imp_engine_stop(eng);
			goto out_unlock;
		}
		done += piece;
		if (done == len)
			goto out_unlock;
		offset = 0;
	}
	/* The mapping is shorter than the buffer: the exporter's bug. */
	ret = -EIO;
out_unlock:
	mutex_unlock(&eng->lock);
	return ret;
}

/*
 * Wait for the fences a transfer must respect, then take the dma_resv lock
 * with none left. The wait is done without the lock (dma_resv_wait_timeout()
 * needs none), so an exporter that wants the lock to invalidate is not held
 * up by a fence; fences added between the wait and the lock are waited for
 * in another round, within the same overall timeout.
 */
static int p2pbuf_imp_lock_idle(struct dma_resv *resv, bool to_buf)
{
	enum dma_resv_usage usage = dma_resv_usage_rw(to_buf);
	unsigned long deadline = jiffies +
		msecs_to_jiffies(P2PBUF_IMP_FENCE_TIMEOUT_MS);
	long left, wait;
	int ret;

	for (;;) {
		left = max_t(long, (long)(deadline - jiffies), 1);
		wait = dma_resv_wait_timeout(resv, usage, true, left);
		if (wait < 0)
			return wait;
		if (!wait)
			return -ETIMEDOUT;
		ret = dma_resv_lock_interruptible(resv, NULL);
		if (ret)
			return ret;
		if (dma_resv_test_signaled(resv, usage))
			return 0;
		dma_resv_unlock(resv);
		if (time_after(jiffies, deadline))
			return -ETIMEDOUT;
	}
}

/**
 * p2pbuf_imp_buf_dma() - P2PBUF_IMP_DMA: move data through a mapped import
 * @file: the file
 * @arg: the argument, flags, reserved and length already validated
 * @kbuf: @arg->length bytes of kernel memory: the data for
 *	%P2PBUF_IMP_DMA_TO_BUF, filled for %P2PBUF_IMP_DMA_FROM_BUF
 *
 * Context: @file->lock held; no user memory is accessed.
 * Return: 0; -EOPNOTSUPP (no engine); -ENOENT; -EACCES (a write into an
 * import whose dma-buf file is not open for writing, or a read from one
 * not open for reading); -EINVAL (range); -EINTR; -ENXIO (not mapped, or
 * unmapped by an invalidation); -ETIMEDOUT (fences, engine); -EIO (engine
 * stopped by an earlier timeout).
 */
int p2pbuf_imp_buf_dma(struct p2pbuf_imp_file *file,
		       struct p2pbuf_imp_dma *arg, void *kbuf)
{
	struct p2pbuf_imp_engine *eng = &file->idev->engine;
	bool to_buf = arg->flags == P2PBUF_IMP_DMA_TO_BUF;
	struct p2pbuf_imp_buf *buf;
	struct dma_resv *resv;
	u64 end;
	int ret;

	lockdep_assert_held(&file->lock);

	if (!eng->ops)
		return -EOPNOTSUPP;
	buf = p2pbuf_imp_buf_lookup(file, arg->handle);
	if (!buf)
		return -ENOENT;
	if (to_buf ? !buf->writable : !buf->readable) {
		ret = -EACCES;
		goto out_trace;
	}
	if (check_add_overflow(arg->offset, arg->length, &end) ||
	    end > buf->dmabuf->size) {
		ret = -EINVAL;
		goto out_trace;
	}

	/*
	 * A dynamic importer obeys the buffer's implicit fences itself: writes
	 * wait for every reader and writer, reads for writers. No fence of our
	 * own is added, the access is over before the dma_resv lock is dropped.
	 */
	resv = buf->dmabuf->resv;
	ret = p2pbuf_imp_lock_idle(resv, to_buf);
	if (ret)
		goto out_trace;
	if (buf->sgt)
		ret = p2pbuf_imp_engine_xfer(eng, buf->sgt, arg->offset, kbuf,
					     arg->length, to_buf);
	else
		ret = -ENXIO;
	dma_resv_unlock(resv);
out_trace:
	trace_p2pbuf_imp_dma(&file->idev->pdev->dev, arg->handle, to_buf,
			     arg->offset, arg->length, ret);
	return ret;
}
