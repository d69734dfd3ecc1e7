// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf exporter: revoke and restore, and the device events behind them.
 *
 * A buffer is revoked while at least one reason holds (buf->revoked, a mask
 * of P2PBUF_EXP_REVOKED_*). Each reason has one owner that sets and clears
 * it: the REVOKE and RESTORE ioctls own USER; closing the exporter file sets
 * CLOSED and unbinding sets UNBOUND, which nothing clears; the device events
 * (lifecycle.c and the memory decode check below) own DECODE, RESET, ERROR,
 * SUSPEND and RUNTIME_PM, which are also kept device-wide in edev->events so
 * that a buffer exported during an event starts revoked. The reasons
 * compose: a buffer goes live only when the last one clears, whoever clears
 * it, and the mappings are torn down only when the first one is set.
 *
 * Going revoked: under the buffer's resv lock mark it, invalidate every
 * importer's mappings and wait for the buffer's fences; then, without the
 * lock, wait until the importers have unmapped (dma_buf_invalidate_mappings()
 * explains why both waits are needed). Only then may the MMIO stop decoding
 * or go away. Going live: under the resv lock clear the last reason and
 * invalidate again, which tells the importers that a map may now succeed
 * (their mappings are already gone, so the callback only reports it).
 *
 * Memory decoding can also be switched off behind the driver's back, by a
 * write to the command register through sysfs or setpci, and the PCI core
 * tells drivers nothing about that. The exporter therefore reads
 * PCI_COMMAND at every export, at every RESTORE, after every device event,
 * and every decode_poll_ms while bound: a buffer may be mapped while the BAR
 * does not decode for at most that long.
 */
#include <linux/completion.h>
#include <linux/dma-buf.h>
#include <linux/dma-fence.h>
#include <linux/dma-resv.h>
#include <linux/file.h>
#include <linux/jiffies.h>
#include <linux/lockdep.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/workqueue.h>

#include "p2pbuf_exporter.h"
#include "trace.h"

static unsigned int p2pbuf_exp_decode_poll_ms = 1000;
module_param_named(decode_poll_ms, p2pbuf_exp_decode_poll_ms, uint, 0644);
MODULE_PARM_DESC(decode_poll_ms,
		 "Re-read PCI_COMMAND this often (ms) to notice memory decoding switched off or on behind the driver; 0: only at export, restore and device events (default 1000)");

/**
 * p2pbuf_exp_maps_drained() - kref release of &p2pbuf_exp_buf.maps
 * @kref: the kref
 *
 * Wakes the revoke that waits for the last unmap.
 */
void p2pbuf_exp_maps_drained(struct kref *kref)
{
	struct p2pbuf_exp_buf *buf =
		container_of(kref, struct p2pbuf_exp_buf, maps);

	complete(&buf->maps_done);
}

/*
 * Gather the buffers of @edev matching @owner (NULL: any) and @only (NULL:
 * any) that a revoke (@set) or restore (!@set) of @reason would change,
 * each with a file reference so that it cannot be released while we work
 * on it. A buffer whose file is already dying is skipped: nobody can attach
 * to it or map it any more.
 */
static void p2pbuf_exp_collect(struct p2pbuf_exp_dev *edev,
			       struct file *owner, struct p2pbuf_exp_buf *only,
			       u32 reason, bool set, struct list_head *batch)
{
	struct p2pbuf_exp_buf *buf;

	lockdep_assert_held(&edev->revoke_lock);

	mutex_lock(&edev->lock);
	list_for_each_entry(buf, &edev->bufs, node) {
		if ((owner && buf->owner != owner) || (only && buf != only))
			continue;
		/* A revoke also finishes a drain that a fatal signal cut short. */
		if (set ? (buf->revoked & reason) && !buf->draining :
			  !(buf->revoked & reason))
			continue;
		if (!get_file_active(&buf->dmabuf->file))
			continue;
		list_add_tail(&buf->revoke_node, batch);
	}
	mutex_unlock(&edev->lock);
}

struct p2pbuf_exp_fence_cb {
	struct dma_fence_cb cb;
	struct completion done;
};

static void p2pbuf_exp_fence_signalled(struct dma_fence *fence,
				       struct dma_fence_cb *cb)
{
	complete(&container_of(cb, struct p2pbuf_exp_fence_cb, cb)->done);
}

/*
 * dma_fence_wait_timeout() sleeps either uninterruptibly or until any
 * signal, and a pending signal that is not fatal would end every later
 * interruptible wait at once. Wait for @fence on a callback instead, which
 * only a fatal signal interrupts. Return: > 0 if @fence signalled, 0 on
 * timeout, -ERESTARTSYS on a fatal signal.
 */
static long p2pbuf_exp_fence_wait_killable(struct dma_fence *fence,
					   unsigned long timeout)
{
	const struct dma_fence_ops *ops;
	struct p2pbuf_exp_fence_cb fcb;
	bool own_wait;
	long left;

	/*
	 * A fence with its own ->wait (legacy i915, radeon, nouveau, qxl) may
	 * signal only from inside it: wait there, and let a fatal signal end
	 * the wait between slices. @ops is RCU: NULL once signalled.
	 */
	rcu_read_lock();
	ops = rcu_dereference(fence->ops);
	own_wait = ops && ops->wait;
	rcu_read_unlock();
	if (own_wait) {
		left = dma_fence_wait_timeout(fence, false, timeout);
		if (!left && fatal_signal_pending(current))
			return -ERESTARTSYS;
		return left;
	}
	init_completion(&fcb.done);
	if (dma_fence_add_callback(fence, &fcb.cb, p2pbuf_exp_fence_signalled))
		return 1;	/* already signalled */
	left = wait_for_completion_killable_timeout(&fcb.done, timeout);
	/*
	 * Not removed: the fence signalled meanwhile, and its callbacks run
	 * under the fence lock that the removal took, so @fcb is unused now.
	 */
	if (left <= 0 && !dma_fence_remove_callback(fence, &fcb.cb))
		left = 1;
	return left;
}

/*
 * Wait until the last mapping of a revoked buffer is gone, then re-arm
 * @maps and @maps_done so that the buffer is in the state of a new one when
 * it goes live again: no map can take a reference meanwhile, because the
 * buffer is revoked and going live needs the revoke_lock we hold.
 *
 * With @killable (a user task in REVOKE or RESTORE), a fatal signal ends
 * either wait with -EINTR and leaves the buffer draining, for the next
 * revoke, restore or remove() to finish. Without it the wait cannot be
 * interrupted: see p2pbuf_exp_revoke().
 */
static int p2pbuf_exp_drain(struct p2pbuf_exp_buf *buf,
			    struct p2pbuf_exp_revoke_wait *w, bool killable)
{
	unsigned long slice;
	long left;

	lockdep_assert_held(&buf->edev->revoke_lock);

	/*
	 * The fences of work the importers could not stop at once, as the
	 * revoke found them under the resv lock: no lock is held while waiting,
	 * so that importers can take it meanwhile (to unmap, too), and a fence
	 * that any holder of the dma-buf fd adds later (IMPORT_SYNC_FILE)
	 * cannot make the wait endless.
	 */
	while (buf->revoke_fence) {
		slice = p2pbuf_exp_wait_slice(w);
		if (killable)
			left = p2pbuf_exp_fence_wait_killable(buf->revoke_fence,
							      slice);
		else
			left = dma_fence_wait_timeout(buf->revoke_fence, false,
						      slice);
		if (left < 0 && killable)
			return -EINTR;
		if (left)
			break;
		p2pbuf_exp_wait_report(buf, w, true);
	}
	dma_fence_put(buf->revoke_fence);
	buf->revoke_fence = NULL;

	for (;;) {
		slice = p2pbuf_exp_wait_slice(w);
		if (killable)
			left = wait_for_completion_killable_timeout(&buf->maps_done,
								    slice);
		else
			left = wait_for_completion_timeout(&buf->maps_done, slice);
		if (left > 0)
			break;
		if (left < 0)
			return -EINTR;
		p2pbuf_exp_wait_report(buf, w, false);
	}
	kref_init(&buf->maps);
	reinit_completion(&buf->maps_done);
	buf->draining = false;
	return 0;
}

/**
 * p2pbuf_exp_revoke() - add a revoke reason and wait until nothing maps
 * @edev: the device
 * @owner: only buffers exported through this file; NULL for all
 * @only: only this buffer; NULL for all that match @owner
 * @reason: one %P2PBUF_EXP_REVOKED_* bit
 * @killable: a fatal signal may end the wait for the fences and the
 *	importers (the REVOKE and RESTORE ioctls); the buffers stay revoked
 *	and the next revoke, restore or remove() finishes the wait
 *
 * Buffers that were live are marked, invalidated and drained as the top of
 * this file describes; buffers already revoked for another reason only
 * record @reason. The wait does not give up otherwise: the MMIO must stay
 * valid until the last unmap. Callers that cannot fail or be interrupted
 * (the release of the exporter file, which may run at exit with a fatal
 * signal already pending, remove(), and the device events, after which the
 * BARs stop decoding) pass !@killable and wait as long as the importers
 * take, which dma_buf_invalidate_mappings() obliges them to keep bounded.
 * The waits name the fences and importers they still wait for every
 * %P2PBUF_EXP_REVOKE_WARN_MS and report a call that waits longer than
 * revoke_bound_ms as an error (revoke_wait.c).
 *
 * Context: process context, @edev->revoke_lock held; sleeps.
 * Return: the number of buffers that did not have @reason before, or
 * -EINTR if @killable and a fatal signal ended the wait.
 */
int p2pbuf_exp_revoke(struct p2pbuf_exp_dev *edev, struct file *owner,
		      struct p2pbuf_exp_buf *only, u32 reason, bool killable)
{
	struct p2pbuf_exp_revoke_wait w;
	struct p2pbuf_exp_buf *buf, *tmp;
	LIST_HEAD(batch);
	int count = 0, ret = 0;
	u32 was;

	lockdep_assert_held(&edev->revoke_lock);

	p2pbuf_exp_wait_init(&w);
	p2pbuf_exp_collect(edev, owner, only, reason, true, &batch);

	/*
	 * Stop all of them before waiting for any, so that their importers
	 * finish in parallel: a fence of one buffer must not hold back the
	 * invalidation of the next.
	 */
	list_for_each_entry(buf, &batch, revoke_node) {
		struct dma_resv *resv = buf->dmabuf->resv;

		dma_resv_lock(resv, NULL);
		was = buf->revoked;
		buf->revoked |= reason;
		if (!was) {
			buf->revokes++;
			dma_buf_invalidate_mappings(buf->dmabuf);
			trace_p2pbuf_exp_revoke_buf(buf);
			p2pbuf_exp_drop_cached_sgts(buf);
			/* Without memory for a snapshot, wait here, as vfio does. */
			if (dma_resv_get_singleton(resv, DMA_RESV_USAGE_BOOKKEEP,
						   &buf->revoke_fence))
				dma_resv_wait_timeout(resv, DMA_RESV_USAGE_BOOKKEEP,
						      false, MAX_SCHEDULE_TIMEOUT);
		}
		dma_resv_unlock(resv);
		if (!was) {
			/* @maps_done fires at the last unmap. */
			buf->draining = true;
			kref_put(&buf->maps, p2pbuf_exp_maps_drained);
		}
		if (!(was & reason))
			count++;
	}

	list_for_each_entry_safe(buf, tmp, &batch, revoke_node) {
		/* After a fatal signal, leave the others draining too. */
		if (!ret && buf->draining) {
			ret = p2pbuf_exp_drain(buf, &w, killable);
			if (!ret)
				trace_p2pbuf_exp_revoke_drained(buf);
		}
		list_del(&buf->revoke_node);
		fput(buf->dmabuf->file);
	}
	p2pbuf_exp_wait_done(edev, &w, count);
	/* A batch that found nothing to revoke is no event. */
	if (count)
		trace_p2pbuf_exp_revoke(edev, count);
	return ret ? ret : count;
}

/**
 * p2pbuf_exp_restore() - clear a revoke reason
 * @edev: the device
 * @owner: only buffers exported through this file; NULL for all
 * @only: only this buffer; NULL for all that match @owner
 * @reason: one %P2PBUF_EXP_REVOKED_* bit
 * @killable: a fatal signal may end the wait for a drain that an
 *	interrupted revoke left (RESTORE ioctl only); the buffers not yet
 *	restored then keep @reason
 *
 * A buffer whose last reason this clears goes live, and its importers'
 * mappings are invalidated once more to tell them: a revoke left no mapping
 * behind, so the callback has nothing to unmap and only reports that a map
 * may now succeed.
 *
 * Context: @edev->revoke_lock held; sleeps.
 * Return: the number of buffers that had @reason and lost it, or -EINTR if
 * @killable and a fatal signal ended a wait.
 */
int p2pbuf_exp_restore(struct p2pbuf_exp_dev *edev, struct file *owner,
		       struct p2pbuf_exp_buf *only, u32 reason, bool killable)
{
	struct p2pbuf_exp_revoke_wait w;
	struct p2pbuf_exp_buf *buf, *tmp;
	LIST_HEAD(batch);
	int count = 0, ret = 0;

	lockdep_assert_held(&edev->revoke_lock);

	p2pbuf_exp_wait_init(&w);
	p2pbuf_exp_collect(edev, owner, only, reason, false, &batch);
	/*
	 * Drain first, restore second: a map must find @maps re-armed, and a
	 * RESTORE a fatal signal ends restores nothing (-EINTR), rather than
	 * some buffers of the batch.
	 */
	list_for_each_entry(buf, &batch, revoke_node) {
		if (buf->draining) {
			ret = p2pbuf_exp_drain(buf, &w, killable);
			if (ret)
				break;
		}
	}
	list_for_each_entry_safe(buf, tmp, &batch, revoke_node) {
		if (!ret) {
			dma_resv_lock(buf->dmabuf->resv, NULL);
			buf->revoked &= ~reason;
			if (!buf->revoked)
				dma_buf_invalidate_mappings(buf->dmabuf);
			dma_resv_unlock(buf->dmabuf->resv);
			count++;
		}

		list_del(&buf->revoke_node);
		fput(buf->dmabuf->file);
	}
	/* Nor one that restored nothing: the decode poll runs every period. */
	if (count)
		trace_p2pbuf_exp_restore(edev, count);
	return ret ? ret : count;
}

/**
 * p2pbuf_exp_disown() - detach buffers from a closing exporter file
 * @edev: the device
 * @owner: the file being released
 *
 * Called after p2pbuf_exp_revoke() with %P2PBUF_EXP_REVOKED_CLOSED for the
 * same file; no file can clear %P2PBUF_EXP_REVOKED_USER of these buffers
 * any more, and nothing clears CLOSED.
 *
 * Context: @edev->revoke_lock held.
 */
void p2pbuf_exp_disown(struct p2pbuf_exp_dev *edev, struct file *owner)
{
	struct p2pbuf_exp_buf *buf;

	lockdep_assert_held(&edev->revoke_lock);

	mutex_lock(&edev->lock);
	list_for_each_entry(buf, &edev->bufs, node)
		if (buf->owner == owner)
			buf->owner = NULL;
	mutex_unlock(&edev->lock);
}

static void p2pbuf_exp_set_events(struct p2pbuf_exp_dev *edev, u32 set,
				  u32 clear)
{
	lockdep_assert_held(&edev->revoke_lock);

	mutex_lock(&edev->lock);
	edev->events = (edev->events & ~clear) | set;
	mutex_unlock(&edev->lock);
}

/**
 * p2pbuf_exp_decoding() - does the device decode its memory BARs now?
 * @edev: the device
 *
 * Context: any process context; reads the command register.
 * Return: false if PCI_COMMAND_MEMORY is clear, the read failed or
 * returned all ones, the device is not in D0 or its channel is offline.
 */
bool p2pbuf_exp_decoding(struct p2pbuf_exp_dev *edev)
{
	struct pci_dev *pdev = edev->pdev;
	u16 cmd;

	if (pci_channel_offline(pdev) || pdev->current_state != PCI_D0)
		return false;
	if (pdev->no_command_memory)
		return true;
	if (pci_read_config_word(pdev, PCI_COMMAND, &cmd) || PCI_POSSIBLE_ERROR(cmd))
		return false;
	return cmd & PCI_COMMAND_MEMORY;
}

/**
 * p2pbuf_exp_check_decode_locked() - p2pbuf_exp_check_decode(), lock held
 * @edev: the device
 * @killable: a fatal signal may end the waits (a user task's RESTORE); the
 *	next check finishes what it left
 *
 * Context: @edev->revoke_lock held; sleeps.
 * Return: 0, or -EINTR if @killable and a fatal signal ended a wait.
 */
int p2pbuf_exp_check_decode_locked(struct p2pbuf_exp_dev *edev, bool killable)
{
	int ret;

	lockdep_assert_held(&edev->revoke_lock);

	/* During another event the register means nothing: checked at its end. */
	if (!edev->bound || (edev->events & ~P2PBUF_EXP_REVOKED_DECODE))
		return 0;

	if (p2pbuf_exp_decoding(edev)) {
		p2pbuf_exp_set_events(edev, 0, P2PBUF_EXP_REVOKED_DECODE);
		/* Also the buffers that were exported while decode was off. */
		ret = p2pbuf_exp_restore(edev, NULL, NULL,
					 P2PBUF_EXP_REVOKED_DECODE, killable);
		if (ret < 0) {
			/*
			 * Killed before restoring anything: the event stays in
			 * force, and the worker, which nothing interrupts,
			 * restores every file's buffers now.
			 */
			p2pbuf_exp_set_events(edev, P2PBUF_EXP_REVOKED_DECODE, 0);
			p2pbuf_exp_decode_poll(edev, 0);
		}
	} else {
		if (!(edev->events & P2PBUF_EXP_REVOKED_DECODE))
			dev_dbg(&edev->pdev->dev, "memory decoding is off: revoking\n");
		p2pbuf_exp_set_events(edev, P2PBUF_EXP_REVOKED_DECODE, 0);
		ret = p2pbuf_exp_revoke(edev, NULL, NULL,
					P2PBUF_EXP_REVOKED_DECODE, killable);
	}
	return ret < 0 ? ret : 0;
}

/**
 * p2pbuf_exp_check_decode() - revoke or restore after reading PCI_COMMAND
 * @edev: the device
 *
 * Sets %P2PBUF_EXP_REVOKED_DECODE on every buffer if the device does not
 * decode memory, clears it from every buffer if it does. Does nothing while
 * another device event is in force or after unbind.
 *
 * Context: process context, @edev->revoke_lock not held; sleeps.
 */
void p2pbuf_exp_check_decode(struct p2pbuf_exp_dev *edev)
{
	mutex_lock(&edev->revoke_lock);
	p2pbuf_exp_check_decode_locked(edev, false);
	mutex_unlock(&edev->revoke_lock);
}

/**
 * p2pbuf_exp_event_revoke() - a device event stops the BARs from decoding
 * @edev: the device
 * @reason: the event's %P2PBUF_EXP_REVOKED_* bit
 *
 * Returns when no importer maps any buffer of @edev, however long that
 * takes: the callbacks cannot fail, and the BARs stop decoding after them.
 * Buffers exported until p2pbuf_exp_event_restore() start revoked.
 *
 * Context: process context, @edev->revoke_lock not held; sleeps.
 */
void p2pbuf_exp_event_revoke(struct p2pbuf_exp_dev *edev, u32 reason)
{
	mutex_lock(&edev->revoke_lock);
	p2pbuf_exp_set_events(edev, reason, 0);
	p2pbuf_exp_revoke(edev, NULL, NULL, reason, false);
	mutex_unlock(&edev->revoke_lock);
	dev_dbg(&edev->pdev->dev, "event %#x: revoked\n", reason);
}

/**
 * p2pbuf_exp_event_restore() - the event of p2pbuf_exp_event_revoke() ended
 * @edev: the device
 * @reason: the event's %P2PBUF_EXP_REVOKED_* bit
 *
 * Clears @reason and then checks that the device decodes memory again: a
 * buffer goes live only if nothing else holds it revoked. A device that came
 * back without decoding (a failed reset, a device that no longer answers)
 * gets %P2PBUF_EXP_REVOKED_DECODE before @reason is cleared, so importers
 * are never told to map a BAR that does not decode.
 *
 * Context: process context, @edev->revoke_lock not held; sleeps.
 */
void p2pbuf_exp_event_restore(struct p2pbuf_exp_dev *edev, u32 reason)
{
	u32 events;

	mutex_lock(&edev->revoke_lock);
	if (edev->bound && !p2pbuf_exp_decoding(edev)) {
		p2pbuf_exp_set_events(edev, P2PBUF_EXP_REVOKED_DECODE, 0);
		p2pbuf_exp_revoke(edev, NULL, NULL, P2PBUF_EXP_REVOKED_DECODE,
				  false);
	}
	p2pbuf_exp_set_events(edev, 0, reason);
	p2pbuf_exp_restore(edev, NULL, NULL, reason, false);
	p2pbuf_exp_check_decode_locked(edev, false);
	/* Written with @revoke_lock held (and @lock, for the readers of @lock). */
	events = edev->events;
	mutex_unlock(&edev->revoke_lock);
	dev_dbg(&edev->pdev->dev, "event %#x: ended, events now %#x\n", reason,
		events);
}

/**
 * p2pbuf_exp_decode_poll() - (re)arm the memory decode check
 * @edev: the device, bound
 * @delay_ms: when to run it
 *
 * The check runs on system_freezable_wq on purpose: it has nothing to do
 * during system sleep and must not run then. From the suspend callback to
 * the resume callback %P2PBUF_EXP_REVOKED_SUSPEND holds every buffer
 * revoked and the check returns without reading the command register; the
 * resume callback checks decoding itself (p2pbuf_exp_event_restore()), so
 * nothing waits for the work to thaw; and with user space frozen nobody
 * can switch decoding off behind the driver. Frozen, the work cannot read
 * the config space of a device that is being suspended or is still
 * powered down early in resume, before the PCI core restored it. Runtime
 * suspend does not freeze it; %P2PBUF_EXP_REVOKED_RUNTIME_PM makes it
 * return early then.
 */
void p2pbuf_exp_decode_poll(struct p2pbuf_exp_dev *edev, unsigned int delay_ms)
{
	mod_delayed_work(system_freezable_wq, &edev->decode_work,
			 msecs_to_jiffies(delay_ms));
}

/**
 * p2pbuf_exp_decode_work() - periodic memory decode check
 * @work: &p2pbuf_exp_dev.decode_work
 *
 * Runs on the freezable workqueue, so not across system sleep (see
 * p2pbuf_exp_decode_poll() for why it need not and must not); remove()
 * cancels it.
 */
void p2pbuf_exp_decode_work(struct work_struct *work)
{
	struct p2pbuf_exp_dev *edev =
		container_of(to_delayed_work(work), struct p2pbuf_exp_dev,
			     decode_work);
	unsigned int ms = READ_ONCE(p2pbuf_exp_decode_poll_ms);
	bool bound;

	mutex_lock(&edev->revoke_lock);
	p2pbuf_exp_check_decode_locked(edev, false);
	bound = edev->bound;
	mutex_unlock(&edev->revoke_lock);

	if (bound && ms)
		queue_delayed_work(system_freezable_wq, &edev->decode_work,
				   msecs_to_jiffies(ms));
}

/**
 * p2pbuf_exp_decode_poll_start() - start the periodic decode check at probe
 * @edev: the device
 *
 * Does nothing while the decode_poll_ms parameter is 0.
 */
void p2pbuf_exp_decode_poll_start(struct p2pbuf_exp_dev *edev)
{
	unsigned int ms = READ_ONCE(p2pbuf_exp_decode_poll_ms);

	if (ms)
		p2pbuf_exp_decode_poll(edev, ms);
}
