// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf importer: the character device. Open files, ioctl argument
 * handling (argsz, flags, reserved fields) and dispatch, and the per-file
 * queue of invalidation events that read() and poll() deliver.
 */
#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/pci.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "p2pbuf_importer.h"

static int p2pbuf_imp_open(struct inode *inode, struct file *filp)
{
	struct p2pbuf_imp_dev *idev = container_of(filp->private_data,
						   struct p2pbuf_imp_dev, misc);
	struct p2pbuf_imp_file *file;

	file = kzalloc_obj(*file);
	if (!file)
		return -ENOMEM;
	mutex_init(&file->lock);
	xa_init_flags(&file->imports, XA_FLAGS_ALLOC1);
	spin_lock_init(&file->ev_lock);
	init_waitqueue_head(&file->ev_wait);

	mutex_lock(&idev->lock);
	if (idev->dead) {
		mutex_unlock(&idev->lock);
		mutex_destroy(&file->lock);
		kfree(file);
		return -ENODEV;
	}
	kref_get(&idev->kref);
	file->idev = idev;
	list_add(&file->node, &idev->files);
	mutex_unlock(&idev->lock);

	filp->private_data = file;
	return stream_open(inode, filp);
}

static int p2pbuf_imp_file_release(struct inode *inode, struct file *filp)
{
	struct p2pbuf_imp_file *file = filp->private_data;
	struct p2pbuf_imp_dev *idev = file->idev;

	mutex_lock(&file->lock);
	p2pbuf_imp_buf_release_all(file);
	mutex_unlock(&file->lock);

	mutex_lock(&idev->lock);
	list_del(&file->node);
	mutex_unlock(&idev->lock);

	xa_destroy(&file->imports);
	mutex_destroy(&file->lock);
	kfree(file);
	p2pbuf_imp_dev_put(idev);
	return 0;
}

/**
 * p2pbuf_imp_file_kill() - detach an open file from an unbinding device
 * @file: the file
 *
 * Unmaps and detaches every import of @file and makes its later ioctls fail
 * with -ENODEV. Queued events stay readable; a reader with none left gets
 * -ENODEV and poll() reports EPOLLHUP.
 *
 * Context: Process context; the device's lock is held.
 */
void p2pbuf_imp_file_kill(struct p2pbuf_imp_file *file)
{
	lockdep_assert_held(&file->idev->lock);

	mutex_lock(&file->lock);
	p2pbuf_imp_buf_release_all(file);
	spin_lock(&file->ev_lock);
	file->dead = true;
	spin_unlock(&file->ev_lock);
	mutex_unlock(&file->lock);
	wake_up_interruptible_all(&file->ev_wait);
}

/**
 * p2pbuf_imp_event_queue() - queue an invalidation event for readers
 * @file: the file owning the import
 * @handle: the import's handle
 * @invalidations: the import's invalidation count including this one
 *
 * The queue holds %P2PBUF_IMP_EVENT_QUEUE events. When it is full the oldest
 * event is dropped: the newest events carry the current counts, and the
 * reader sees the loss as a gap in the sequence numbers, which count every
 * event generated.
 *
 * Context: Any context that may take a spinlock; called with the buffer's
 * dma_resv lock held from the invalidate_mappings callback.
 */
void p2pbuf_imp_event_queue(struct p2pbuf_imp_file *file, u32 handle,
			    u64 invalidations)
{
	struct p2pbuf_imp_event *ev;

	spin_lock(&file->ev_lock);
	if (file->ev_count == P2PBUF_IMP_EVENT_QUEUE) {
		file->ev_head = (file->ev_head + 1) % P2PBUF_IMP_EVENT_QUEUE;
		file->ev_count--;
	}
	ev = &file->ev[(file->ev_head + file->ev_count) %
		       P2PBUF_IMP_EVENT_QUEUE];
	ev->type = P2PBUF_IMP_EVENT_INVALIDATED;
	ev->handle = handle;
	ev->seq = ++file->ev_seq;
	ev->invalidations = invalidations;
	file->ev_count++;
	spin_unlock(&file->ev_lock);

	wake_up_interruptible(&file->ev_wait);
}

/* Take the oldest event: 0, -EAGAIN when none is queued, -ENODEV if unbound. */
static int p2pbuf_imp_event_pop(struct p2pbuf_imp_file *file,
				struct p2pbuf_imp_event *ev)
{
	int ret = 0;

	spin_lock(&file->ev_lock);
	if (file->ev_count) {
		*ev = file->ev[file->ev_head];
		file->ev_head = (file->ev_head + 1) % P2PBUF_IMP_EVENT_QUEUE;
		file->ev_count--;
	} else {
		ret = file->dead ? -ENODEV : -EAGAIN;
	}
	spin_unlock(&file->ev_lock);
	return ret;
}

static bool p2pbuf_imp_event_ready(struct p2pbuf_imp_file *file)
{
	bool ready;

	spin_lock(&file->ev_lock);
	ready = file->ev_count || file->dead;
	spin_unlock(&file->ev_lock);
	return ready;
}

/*
 * Whole events only. An event is removed from the queue before it is copied
 * out: when the copy faults it is lost, and -EFAULT is returned unless earlier
 * events were delivered by this call.
 */
static ssize_t p2pbuf_imp_read(struct file *filp, char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	struct p2pbuf_imp_file *file = filp->private_data;
	struct p2pbuf_imp_event ev;
	size_t done = 0;
	int ret;

	if (count < sizeof(ev))
		return -EINVAL;

	while (count - done >= sizeof(ev)) {
		ret = p2pbuf_imp_event_pop(file, &ev);
		if (ret) {
			if (done)
				break;
			if (ret == -ENODEV || (filp->f_flags & O_NONBLOCK))
				return ret;
			ret = wait_event_interruptible(file->ev_wait,
						       p2pbuf_imp_event_ready(file));
			if (ret)
				return ret;
			continue;
		}
		if (copy_to_user(ubuf + done, &ev, sizeof(ev)))
			return done ? done : -EFAULT;
		done += sizeof(ev);
	}
	return done;
}

static __poll_t p2pbuf_imp_poll(struct file *filp, poll_table *wait)
{
	struct p2pbuf_imp_file *file = filp->private_data;
	__poll_t mask = 0;

	poll_wait(filp, &file->ev_wait, wait);
	spin_lock(&file->ev_lock);
	if (file->ev_count)
		mask |= EPOLLIN | EPOLLRDNORM;
	if (file->dead)
		mask |= EPOLLHUP;
	spin_unlock(&file->ev_lock);
	return mask;
}

/*
 * Every argument starts with argsz. Shorter than the structure (the first
 * and only ABI version so far) is -EINVAL; longer is fine when the extra
 * bytes are zero, else copy_struct_from_user() gives -E2BIG.
 */
static int p2pbuf_imp_copy_in(void *karg, size_t ksize, void __user *uarg)
{
	u32 argsz;

	if (get_user(argsz, (u32 __user *)uarg))
		return -EFAULT;
	if (argsz < ksize)
		return -EINVAL;
	return copy_struct_from_user(karg, ksize, uarg, argsz);
}

static int p2pbuf_imp_info(struct p2pbuf_imp_file *file,
			   struct p2pbuf_imp_info *arg)
{
	const struct p2pbuf_imp_engine_ops *ops = file->idev->engine.ops;

	if (arg->flags || arg->reserved)
		return -EINVAL;
	memset(arg->engine, 0, sizeof(arg->engine));
	if (ops)
		strscpy(arg->engine, ops->name, sizeof(arg->engine));
	arg->dma_max = ops ? ops->max_xfer : 0;
	return 0;
}

/* The argument of every ioctl, copied in by p2pbuf_imp_ioctl(). */
union p2pbuf_imp_ioctl_arg {
	struct p2pbuf_imp_info info;
	struct p2pbuf_imp_import import;
	struct p2pbuf_imp_handle handle;
	struct p2pbuf_imp_map map;
	struct p2pbuf_imp_status status;
	struct p2pbuf_imp_dma dma;
	struct p2pbuf_imp_map_cycles cycles;
	struct p2pbuf_imp_timing timing;
};

static long p2pbuf_imp_dispatch(struct p2pbuf_imp_file *file, unsigned int cmd,
				union p2pbuf_imp_ioctl_arg *arg,
				void __user *uarg)
{
	switch (cmd) {
	case P2PBUF_IMP_INFO:
		return p2pbuf_imp_info(file, &arg->info);
	case P2PBUF_IMP_IMPORT:
		if ((arg->import.flags & ~P2PBUF_IMP_IMPORT_PINNED) ||
		    arg->import.reserved)
			return -EINVAL;
		return p2pbuf_imp_buf_import(file, &arg->import, uarg);
	case P2PBUF_IMP_RELEASE:
	case P2PBUF_IMP_UNMAP:
		if (arg->handle.flags || arg->handle.reserved)
			return -EINVAL;
		if (cmd == P2PBUF_IMP_RELEASE)
			return p2pbuf_imp_buf_release(file, arg->handle.handle);
		return p2pbuf_imp_buf_unmap(file, arg->handle.handle);
	case P2PBUF_IMP_MAP:
		if (arg->map.flags || arg->map.reserved)
			return -EINVAL;
		return p2pbuf_imp_buf_map(file, &arg->map, uarg);
	case P2PBUF_IMP_STATUS:
		if (arg->status.flags || arg->status.reserved)
			return -EINVAL;
		return p2pbuf_imp_buf_status(file, &arg->status);
	case P2PBUF_IMP_DMA:
		if ((arg->dma.flags != P2PBUF_IMP_DMA_TO_BUF &&
		     arg->dma.flags != P2PBUF_IMP_DMA_FROM_BUF) ||
		    arg->dma.reserved)
			return -EINVAL;
		return p2pbuf_imp_buf_dma(file, &arg->dma);
	case P2PBUF_IMP_MAP_CYCLES:
		if (arg->cycles.flags || arg->cycles.reserved)
			return -EINVAL;
		return p2pbuf_imp_buf_map_cycles(file, &arg->cycles);
	case P2PBUF_IMP_TIMING:
		if (arg->timing.flags || arg->timing.reserved)
			return -EINVAL;
		return p2pbuf_imp_buf_timing(file, &arg->timing);
	}
	return -ENOTTY;
}

static long p2pbuf_imp_ioctl(struct file *filp, unsigned int cmd,
			     unsigned long uptr)
{
	struct p2pbuf_imp_file *file = filp->private_data;
	void __user *uarg = (void __user *)uptr;
	union p2pbuf_imp_ioctl_arg arg;
	size_t ksize;
	long ret;

	switch (cmd) {
	case P2PBUF_IMP_INFO:
		ksize = sizeof(arg.info);
		break;
	case P2PBUF_IMP_IMPORT:
		ksize = sizeof(arg.import);
		break;
	case P2PBUF_IMP_RELEASE:
	case P2PBUF_IMP_UNMAP:
		ksize = sizeof(arg.handle);
		break;
	case P2PBUF_IMP_MAP:
		ksize = sizeof(arg.map);
		break;
	case P2PBUF_IMP_STATUS:
		ksize = sizeof(arg.status);
		break;
	case P2PBUF_IMP_DMA:
		ksize = sizeof(arg.dma);
		break;
	case P2PBUF_IMP_MAP_CYCLES:
		ksize = sizeof(arg.cycles);
		break;
	case P2PBUF_IMP_TIMING:
		ksize = sizeof(arg.timing);
		break;
	default:
		return -ENOTTY;
	}

	ret = p2pbuf_imp_copy_in(&arg, ksize, uarg);
	if (ret)
		return ret;

	if (mutex_lock_interruptible(&file->lock))
		return -ERESTARTSYS;
	if (file->dead)
		ret = -ENODEV;
	else
		ret = p2pbuf_imp_dispatch(file, cmd, &arg, uarg);
	mutex_unlock(&file->lock);

	/*
	 * IMPORT and MAP copy their results out themselves, because a failed
	 * copy must undo what they created. The others with results create
	 * nothing.
	 */
	if (!ret && (cmd == P2PBUF_IMP_INFO || cmd == P2PBUF_IMP_STATUS ||
		     cmd == P2PBUF_IMP_MAP_CYCLES || cmd == P2PBUF_IMP_TIMING) &&
	    copy_to_user(uarg, &arg, ksize))
		ret = -EFAULT;
	return ret;
}

/* Registered through the misc device of every bound PCI device. */
const struct file_operations p2pbuf_imp_fops = {
	.owner		= THIS_MODULE,
	.open		= p2pbuf_imp_open,
	.release	= p2pbuf_imp_file_release,
	.read		= p2pbuf_imp_read,
	.poll		= p2pbuf_imp_poll,
	.unlocked_ioctl	= p2pbuf_imp_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};
