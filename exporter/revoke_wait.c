// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf exporter: the waits of a revoke, and what they report.
 *
 * dma_buf_invalidate_mappings() asks importers to finish in bounded time,
 * but a revoke cannot give up on one that does not: the MMIO must stay
 * valid until the last fence has signalled and the last mapping is gone.
 * So the revoke waits in slices. Whenever a slice runs out it names what it
 * still waits for (the fences by driver and timeline, the importers by
 * device and invalidate_mappings callback): every P2PBUF_EXP_REVOKE_WARN_MS,
 * and when the call has waited revoke_bound_ms, the point at which it also
 * reports, once and as an error, that it exceeded its bound. Below the
 * bound the importers are within their rights and the reports are
 * KERN_INFO; past it they are warnings. docs/revoke.rst explains the bound.
 */
#include <linux/device.h>
#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/jiffies.h>
#include <linux/kref.h>
#include <linux/minmax.h>
#include <linux/moduleparam.h>
#include <linux/ratelimit.h>
#include <linux/rcupdate.h>

#include "p2pbuf_exporter.h"

static unsigned int p2pbuf_exp_revoke_bound_ms = 10000;
module_param_named(revoke_bound_ms, p2pbuf_exp_revoke_bound_ms, uint, 0644);
MODULE_PARM_DESC(revoke_bound_ms, "Report a revoke that waits longer than this (ms) for fences and unmaps as an error (default 10000)");

static DEFINE_RATELIMIT_STATE(p2pbuf_exp_wait_rs, DEFAULT_RATELIMIT_INTERVAL,
			      DEFAULT_RATELIMIT_BURST);

/**
 * p2pbuf_exp_wait_init() - start the clock of a revoke call
 * @w: the call's wait state
 *
 * Reads revoke_bound_ms once: a change applies to the next call.
 */
void p2pbuf_exp_wait_init(struct p2pbuf_exp_revoke_wait *w)
{
	w->start = jiffies;
	w->bound_ms = READ_ONCE(p2pbuf_exp_revoke_bound_ms);
	w->exceeded = false;
}

static unsigned long p2pbuf_exp_wait_end(const struct p2pbuf_exp_revoke_wait *w)
{
	return w->start + msecs_to_jiffies(w->bound_ms);
}

/**
 * p2pbuf_exp_wait_slice() - how long the next slice of a wait may last
 * @w: the call's wait state
 *
 * Return: jiffies until the next report: %P2PBUF_EXP_REVOKE_WARN_MS, or less
 * if the bound comes first; 0 if the bound has passed unreported.
 */
unsigned long p2pbuf_exp_wait_slice(const struct p2pbuf_exp_revoke_wait *w)
{
	unsigned long slice = msecs_to_jiffies(P2PBUF_EXP_REVOKE_WARN_MS);
	unsigned long end = p2pbuf_exp_wait_end(w), now = jiffies;

	if (w->exceeded)
		return slice;
	if (!time_before(now, end))
		return 0;
	return min(slice, end - now);
}

static void p2pbuf_exp_report_fences(struct p2pbuf_exp_buf *buf,
				     const char *level)
{
	struct device *dev = &buf->edev->pdev->dev;
	const char __rcu *driver, *timeline;
	struct dma_resv_iter cursor;
	struct dma_fence *fence;

	/* An importer may hold the lock for a while: report another time. */
	if (!dma_resv_trylock(buf->dmabuf->resv))
		return;
	dma_resv_for_each_fence(&cursor, buf->dmabuf->resv,
				DMA_RESV_USAGE_BOOKKEEP, fence) {
		if (dma_fence_is_signaled(fence) ||
		    !__ratelimit(&p2pbuf_exp_wait_rs))
			continue;
		rcu_read_lock();
		driver = dma_fence_driver_name(fence);
		timeline = dma_fence_timeline_name(fence);
		dev_printk(level, dev, "buffer %llu: revoke still waits for fence %s:%s seqno %llu\n",
			   buf->id, rcu_dereference(driver),
			   rcu_dereference(timeline), fence->seqno);
		rcu_read_unlock();
	}
	dma_resv_unlock(buf->dmabuf->resv);
}

static void p2pbuf_exp_report_holders(struct p2pbuf_exp_buf *buf,
				      const char *level)
{
	struct device *dev = &buf->edev->pdev->dev;
	struct dma_buf_attachment *attach;

	if (!dma_resv_trylock(buf->dmabuf->resv)) {
		if (__ratelimit(&p2pbuf_exp_wait_rs))
			dev_printk(level, dev, "buffer %llu: revoke still waits for %u mapping(s)\n",
				   buf->id, kref_read(&buf->maps));
		return;
	}
	list_for_each_entry(attach, &buf->dmabuf->attachments, node) {
		struct p2pbuf_exp_attach *state = attach->priv;

		/*
		 * Only revocable importers attach; their callback tells two
		 * importers of one device apart.
		 */
		if (state->nr_mappings && __ratelimit(&p2pbuf_exp_wait_rs))
			dev_printk(level, dev, "buffer %llu: revoke still waits for %s (%ps) to unmap %u mapping(s)\n",
				   buf->id, dev_name(attach->dev),
				   attach->importer_ops->invalidate_mappings,
				   state->nr_mappings);
	}
	dma_resv_unlock(buf->dmabuf->resv);
}

/**
 * p2pbuf_exp_wait_report() - a slice of a revoke's wait ran out
 * @buf: the buffer the revoke waits for
 * @w: the call's wait state
 * @fences: the revoke waits for @buf's fences, else for its importers'
 *	mappings (neither wait holds the resv lock)
 *
 * Reports the bound once it is exceeded, then what the revoke still waits
 * for.
 */
void p2pbuf_exp_wait_report(struct p2pbuf_exp_buf *buf,
			    struct p2pbuf_exp_revoke_wait *w, bool fences)
{
	const char *level = KERN_INFO;

	if (!w->exceeded && !time_before(jiffies, p2pbuf_exp_wait_end(w))) {
		w->exceeded = true;
		dev_err(&buf->edev->pdev->dev, "buffer %llu: revoke exceeded its bound of %u ms\n",
			buf->id, w->bound_ms);
	}
	if (w->exceeded)
		level = KERN_WARNING;
	if (fences)
		p2pbuf_exp_report_fences(buf, level);
	else
		p2pbuf_exp_report_holders(buf, level);
}

/**
 * p2pbuf_exp_wait_done() - a revoke call finished waiting
 * @edev: the device
 * @w: the call's wait state
 * @count: buffers the call revoked
 *
 * A call that exceeded its bound says how long it took in the end.
 */
void p2pbuf_exp_wait_done(struct p2pbuf_exp_dev *edev,
			  const struct p2pbuf_exp_revoke_wait *w, u32 count)
{
	if (w->exceeded)
		dev_warn(&edev->pdev->dev, "revoke of %u buffer(s) completed after %u ms\n",
			 count, jiffies_to_msecs(jiffies - w->start));
}
