// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf importer: the DMA engine core. Picks a backend by PCI ID and runs
 * P2PBUF_IMP_DMA transfers through a mapped import.
 *
 * A transfer holds the buffer's dma_resv lock from the check that the import
 * is mapped until the engine has finished, and takes the engine lock inside
 * it. An exporter's invalidate_mappings, which runs under the same dma_resv
 * lock, therefore never overlaps a transfer and can unmap at once (attach.c).
 * User memory is copied before the dma_resv lock is taken and after it is
 * dropped, since mmap_lock nests outside dma_resv locks (dma_resv_lockdep()).
 */
#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/jiffies.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "p2pbuf_importer.h"

/* How long a transfer waits for the buffer's fences before -ETIMEDOUT. */
#define P2PBUF_IMP_FENCE_TIMEOUT_MS	10000

/* QEMU's vendor ID for its emulated devices (include/hw/pci/pci.h in QEMU). */
#define P2PBUF_IMP_VENDOR_QEMU	0x1234

/* Devices with a DMA engine backend. */
static const struct p2pbuf_imp_backend {
	unsigned short vendor;
	unsigned short device;
	const struct p2pbuf_imp_engine_ops *ops;
} p2pbuf_imp_backends[] = {
	{ P2PBUF_IMP_VENDOR_QEMU, 0x11e8, &p2pbuf_imp_edu_ops },	/* QEMU edu */
};

/**
 * p2pbuf_imp_engine_probe() - set up the DMA engine of a device, if it has one
 * @eng: the engine to set up; @eng->lock is initialised by the caller
 * @pdev: the device being probed
 *
 * A device without a backend gets @eng->ops NULL and still imports and maps.
 *
 * Return: 0, or the backend's probe error.
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
		ret = be->ops->probe(eng);
		if (ret)
			return ret;
		eng->ops = be->ops;
		break;
	}
	return 0;
}

/**
 * p2pbuf_imp_engine_remove() - tear down the DMA engine of a device
 * @eng: the engine
 *
 * Context: From the PCI driver's remove() or failed probe, after every import
 * of the device has been unmapped: no transfer can be running.
 */
void p2pbuf_imp_engine_remove(struct p2pbuf_imp_engine *eng)
{
	if (eng->ops && eng->ops->remove)
		eng->ops->remove(eng);
}

/* Run one transfer of @len bytes at @offset of the mapping, segment by segment. */
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
			if (ret == -ETIMEDOUT) {
				eng->failed = true;
				dev_err(&eng->pdev->dev,
					"%s engine timed out, disabled\n",
					ops->name);
			}
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

/**
 * p2pbuf_imp_buf_dma() - P2PBUF_IMP_DMA: move data through a mapped import
 * @file: the file
 * @arg: the argument, flags and reserved already validated
 *
 * Context: @file->lock held.
 * Return: 0; -EOPNOTSUPP (no engine); -ENOENT; -EINVAL (length or range);
 * -ENOMEM; -EFAULT; -EINTR; -ENXIO (not mapped, or unmapped by an
 * invalidation); -ETIMEDOUT (fences, engine); -EIO (engine failed).
 */
int p2pbuf_imp_buf_dma(struct p2pbuf_imp_file *file,
		       struct p2pbuf_imp_dma *arg)
{
	struct p2pbuf_imp_engine *eng = &file->idev->engine;
	bool to_buf = arg->flags == P2PBUF_IMP_DMA_TO_BUF;
	void __user *udata = u64_to_user_ptr(arg->data);
	struct p2pbuf_imp_buf *buf;
	struct dma_resv *resv;
	void *kbuf;
	long wait;
	u64 end;
	int ret;

	lockdep_assert_held(&file->lock);

	if (!eng->ops)
		return -EOPNOTSUPP;
	buf = p2pbuf_imp_buf_lookup(file, arg->handle);
	if (!buf)
		return -ENOENT;
	if (!arg->length || arg->length > eng->ops->max_xfer ||
	    check_add_overflow(arg->offset, arg->length, &end) ||
	    end > buf->dmabuf->size)
		return -EINVAL;

	kbuf = kmalloc(arg->length, GFP_KERNEL);
	if (!kbuf)
		return -ENOMEM;
	if (to_buf && copy_from_user(kbuf, udata, arg->length)) {
		ret = -EFAULT;
		goto out_free;
	}

	resv = buf->dmabuf->resv;
	ret = dma_resv_lock_interruptible(resv, NULL);
	if (ret)
		goto out_free;
	if (!buf->sgt) {
		ret = -ENXIO;
		goto out_unlock;
	}
	/*
	 * A dynamic importer obeys the buffer's implicit fences itself: writes
	 * wait for every reader and writer, reads for writers. No fence of our
	 * own is added, the access is over before the dma_resv lock is dropped.
	 */
	wait = dma_resv_wait_timeout(resv, dma_resv_usage_rw(to_buf), true,
				     msecs_to_jiffies(P2PBUF_IMP_FENCE_TIMEOUT_MS));
	if (wait <= 0) {
		ret = wait ? wait : -ETIMEDOUT;
		goto out_unlock;
	}
	ret = p2pbuf_imp_engine_xfer(eng, buf->sgt, arg->offset, kbuf,
				     arg->length, to_buf);
out_unlock:
	dma_resv_unlock(resv);
	if (!ret && !to_buf && copy_to_user(udata, kbuf, arg->length))
		ret = -EFAULT;
out_free:
	kfree(kbuf);
	return ret;
}
