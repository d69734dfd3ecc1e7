// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf importer: timings for benchmarks. P2PBUF_IMP_MAP_CYCLES maps and
 * unmaps an import in a loop and times each dma-buf core call with the
 * monotonic clock; P2PBUF_IMP_TIMING reports the times the other paths
 * (MAP, UNMAP, the invalidate_mappings callback in attach.c) recorded.
 *
 * Timing in the kernel separates the exporter's cost from the system call
 * around it. Nothing here depends on the exporter: the same loop measures
 * p2pbuf_exporter, vfio-pci, udmabuf or a dma-heap.
 */
#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/ktime.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "p2pbuf_importer.h"

/*
 * One cycle, with the dma_resv lock taken for it alone so that an exporter
 * can invalidate between cycles. @first also classifies the mapping, outside
 * the timed calls.
 */
static int p2pbuf_imp_one_cycle(struct p2pbuf_imp_buf *buf,
				struct p2pbuf_imp_cycle *out,
				struct p2pbuf_imp_map_cycles *arg, bool first)
{
	struct dma_resv *resv = buf->dmabuf->resv;
	struct sg_table *sgt;
	u64 t0, t1, t2;
	int ret;

	ret = dma_resv_lock_interruptible(resv, NULL);
	if (ret)
		return ret;
	if (buf->sgt) {
		ret = -EBUSY;
		goto out_unlock;
	}
	/* An invalidation may have unpinned the import since the last cycle. */
	if (buf->want_pin && !buf->pinned) {
		ret = dma_buf_pin(buf->attach);
		if (ret)
			goto out_unlock;
		buf->pinned = true;
	}
	t0 = ktime_get_ns();
	sgt = dma_buf_map_attachment(buf->attach, DMA_BIDIRECTIONAL);
	t1 = ktime_get_ns();
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto out_unlock;
	}
	if (out)
		out->map_ns = t1 - t0;
	if (first) {
		arg->map_type = p2pbuf_imp_map_type(buf->file->idev->pdev, sgt);
		arg->nr_segs = sgt->nents;
		t1 = ktime_get_ns();
	}
	dma_buf_unmap_attachment(buf->attach, sgt, DMA_BIDIRECTIONAL);
	t2 = ktime_get_ns();
	if (out)
		out->unmap_ns = t2 - t1;
out_unlock:
	dma_resv_unlock(resv);
	return ret;
}

/**
 * p2pbuf_imp_buf_map_cycles() - P2PBUF_IMP_MAP_CYCLES
 * @file: the file
 * @arg: the validated argument; @arg->map_type and @arg->nr_segs are set
 *
 * Context: @file->lock held; takes the buffer's dma_resv lock once per
 * cycle and sleeps.
 * Return: 0; -ENOENT; -EBUSY (mapped, checked by every cycle under the
 * lock); -EINVAL, -E2BIG (@arg->nr_cycles);
 * -ENOMEM; -EFAULT; -EINTR; the exporter's errno from pin or map.
 */
int p2pbuf_imp_buf_map_cycles(struct p2pbuf_imp_file *file,
			      struct p2pbuf_imp_map_cycles *arg)
{
	struct p2pbuf_imp_cycle *cycles = NULL;
	struct p2pbuf_imp_buf *buf;
	u32 i;
	int ret;

	lockdep_assert_held(&file->lock);

	if (!arg->nr_cycles)
		return -EINVAL;
	if (arg->nr_cycles > P2PBUF_IMP_MAX_CYCLES)
		return -E2BIG;
	buf = p2pbuf_imp_buf_lookup(file, arg->handle);
	if (!buf)
		return -ENOENT;
	if (arg->cycles) {
		cycles = kvmalloc_objs(*cycles, arg->nr_cycles);
		if (!cycles)
			return -ENOMEM;
	}

	for (i = 0; i < arg->nr_cycles; i++) {
		if (i && signal_pending(current)) {
			ret = -EINTR;
			goto out_free;
		}
		ret = p2pbuf_imp_one_cycle(buf, cycles ? &cycles[i] : NULL,
					   arg, !i);
		if (ret)
			goto out_free;
		cond_resched();
	}

	if (cycles && copy_to_user(u64_to_user_ptr(arg->cycles), cycles,
				   array_size(arg->nr_cycles, sizeof(*cycles))))
		ret = -EFAULT;
out_free:
	kvfree(cycles);
	return ret;
}

/**
 * p2pbuf_imp_buf_timing() - P2PBUF_IMP_TIMING
 * @file: the file
 * @arg: the validated argument; output fields are set
 *
 * Context: @file->lock held.
 * Return: 0, -ENOENT or -EINTR.
 */
int p2pbuf_imp_buf_timing(struct p2pbuf_imp_file *file,
			  struct p2pbuf_imp_timing *arg)
{
	struct p2pbuf_imp_buf *buf;
	int ret;

	lockdep_assert_held(&file->lock);

	buf = p2pbuf_imp_buf_lookup(file, arg->handle);
	if (!buf)
		return -ENOENT;
	ret = dma_resv_lock_interruptible(buf->dmabuf->resv, NULL);
	if (ret)
		return ret;
	arg->map_ns = buf->map_ns;
	arg->unmap_ns = buf->unmap_ns;
	arg->inval_start_ns = buf->inval_start_ns;
	arg->inval_ns = buf->inval_ns;
	dma_resv_unlock(buf->dmabuf->resv);
	return 0;
}
