// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf importer: the character device. Open files, ioctl argument
 * handling (argsz, flags, reserved fields) and dispatch, the copy-out
 * without page faults that IMPORT and MAP use, STATUS, and the per-file
 * queue of invalidation events that read() and poll() deliver.
 */
#include <linux/capability.h>
#include <linux/compat.h>
#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/fs.h>
#include <linux/pagemap.h>
#include <linux/pci.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "p2pbuf_importer.h"

static int p2pbuf_imp_open(struct inode *inode, struct file *filp)
{
	struct p2pbuf_imp_dev *idev = container_of(filp->private_data,
						   struct p2pbuf_imp_dev, misc);
	struct p2pbuf_imp_file *file;

	file = kzalloc_obj(*file, GFP_KERNEL_ACCOUNT);
	if (!file)
		return -ENOMEM;
	mutex_init(&file->lock);
	/* Its nodes are the user's memory too: charged to the memcg. */
	xa_init_flags(&file->imports, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
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
	/* The opener's credentials decide, not those of a later holder. */
	file->admin = file_ns_capable(filp, &init_user_ns, CAP_SYS_ADMIN);
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

/* The record's size is ABI (<linux/p2pbuf_importer.h>): it never changes. */
static_assert(sizeof(struct p2pbuf_imp_event) == 24);

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
 * and only ABI version so far) is -EINVAL; longer than a page is -E2BIG, so
 * that nobody makes us scan gigabytes of user memory for zeros; longer than
 * the structure is fine when the extra bytes are zero, else
 * copy_struct_from_user() gives -E2BIG.
 */
static int p2pbuf_imp_copy_in(void *karg, size_t ksize, void __user *uarg)
{
	u32 argsz;

	if (get_user(argsz, (u32 __user *)uarg))
		return -EFAULT;
	if (argsz < ksize)
		return -EINVAL;
	if (argsz > PAGE_SIZE)
		return -E2BIG;
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

/**
 * p2pbuf_imp_copy_out_locked() - copy a result out without faulting
 * @fault: where to note the range when the copy fails
 * @dst: user destination
 * @src: kernel source
 * @len: bytes
 *
 * Used under &p2pbuf_imp_file.lock, where user memory must not be faulted in
 * (a userfaultfd or FUSE backed page would park the ioctl with the lock
 * held, and unbinding the device would wait for it). On failure the caller
 * undoes its work and returns -EFAULT; the ioctl then drops the lock, faults
 * the range in and retries.
 *
 * Context: Any context that may access user memory.
 * Return: 0 or -EFAULT.
 */
int p2pbuf_imp_copy_out_locked(struct p2pbuf_imp_fault *fault,
			       void __user *dst, const void *src, size_t len)
{
	if (!copy_to_user_nofault(dst, src, len))
		return 0;
	fault->addr = dst;
	fault->len = len;
	return -EFAULT;
}

/**
 * p2pbuf_imp_buf_status() - P2PBUF_IMP_STATUS
 * @file: the file
 * @arg: the validated argument; output fields are set
 *
 * Context: @file->lock held.
 * Return: 0, -ENOENT or -EINTR.
 */
int p2pbuf_imp_buf_status(struct p2pbuf_imp_file *file,
			  struct p2pbuf_imp_status *arg)
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
	arg->state = 0;
	if (buf->sgt)
		arg->state |= P2PBUF_IMP_STATE_MAPPED;
	if (buf->invalidated)
		arg->state |= P2PBUF_IMP_STATE_INVALIDATED;
	if (buf->pinned)
		arg->state |= P2PBUF_IMP_STATE_PINNED;
	if (!buf->writable)
		arg->state |= P2PBUF_IMP_STATE_READONLY;
	if (!buf->readable)
		arg->state |= P2PBUF_IMP_STATE_WRITEONLY;
	arg->map_type = buf->map_type;
	arg->nr_segs = buf->nr_segs;
	arg->length = buf->length;
	arg->invalidations = buf->invalidations;
	dma_resv_unlock(buf->dmabuf->resv);
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
};

static long p2pbuf_imp_dispatch(struct p2pbuf_imp_file *file, unsigned int cmd,
				union p2pbuf_imp_ioctl_arg *arg,
				void __user *uarg, void *kbuf,
				struct p2pbuf_imp_fault *fault)
{
	switch (cmd) {
	case P2PBUF_IMP_INFO:
		return p2pbuf_imp_info(file, &arg->info);
	case P2PBUF_IMP_IMPORT:
		if ((arg->import.flags & ~P2PBUF_IMP_IMPORT_PINNED) ||
		    arg->import.reserved)
			return -EINVAL;
		return p2pbuf_imp_buf_import(file, &arg->import, uarg, fault);
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
		return p2pbuf_imp_buf_map(file, &arg->map, uarg, fault);
	case P2PBUF_IMP_STATUS:
		if (arg->status.flags || arg->status.reserved)
			return -EINVAL;
		return p2pbuf_imp_buf_status(file, &arg->status);
	case P2PBUF_IMP_DMA:
		return p2pbuf_imp_buf_dma(file, &arg->dma, kbuf);
	}
	return -ENOTTY;
}

/*
 * P2PBUF_IMP_DMA's data is staged in kernel memory before the file's lock
 * is taken (and copied out after it is dropped). Returns the buffer, NULL
 * for a transfer the dispatch refuses anyway, or an ERR_PTR.
 */
static void *p2pbuf_imp_dma_stage(struct p2pbuf_imp_file *file,
				  struct p2pbuf_imp_dma *arg)
{
	const struct p2pbuf_imp_engine_ops *ops = file->idev->engine.ops;
	void *kbuf;

	if ((arg->flags != P2PBUF_IMP_DMA_TO_BUF &&
	     arg->flags != P2PBUF_IMP_DMA_FROM_BUF) || arg->reserved)
		return ERR_PTR(-EINVAL);
	/* The backend is chosen at probe and never changes. */
	if (!ops)
		return NULL;
	if (!arg->length || arg->length > ops->max_xfer)
		return ERR_PTR(-EINVAL);
	kbuf = kmalloc(arg->length, GFP_KERNEL_ACCOUNT);
	if (!kbuf)
		return ERR_PTR(-ENOMEM);
	if (arg->flags == P2PBUF_IMP_DMA_TO_BUF &&
	    copy_from_user(kbuf, u64_to_user_ptr(arg->data), arg->length)) {
		kfree(kbuf);
		return ERR_PTR(-EFAULT);
	}
	return kbuf;
}

static long p2pbuf_imp_ioctl(struct file *filp, unsigned int cmd,
			     unsigned long uptr)
{
	struct p2pbuf_imp_file *file = filp->private_data;
	void __user *uarg = (void __user *)uptr;
	union p2pbuf_imp_ioctl_arg arg;
	void *kbuf = NULL;
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
	default:
		return -ENOTTY;
	}

	ret = p2pbuf_imp_copy_in(&arg, ksize, uarg);
	if (ret)
		return ret;
	if (cmd == P2PBUF_IMP_DMA) {
		kbuf = p2pbuf_imp_dma_stage(file, &arg.dma);
		if (IS_ERR(kbuf))
			return PTR_ERR(kbuf);
	}

	/*
	 * IMPORT and MAP copy their results out themselves, under the lock,
	 * because a failed copy must undo what they created; they do it with
	 * page faults disabled (p2pbuf_imp_copy_out_locked()). When that copy
	 * fails, the pages are faulted in here, without the lock, and the
	 * ioctl is tried again. The others create nothing and copy out after
	 * the lock is dropped.
	 */
	for (;;) {
		struct p2pbuf_imp_fault fault = {};

		if (mutex_lock_interruptible(&file->lock)) {
			ret = -ERESTARTSYS;
			break;
		}
		if (file->dead)
			ret = -ENODEV;
		else
			ret = p2pbuf_imp_dispatch(file, cmd, &arg, uarg, kbuf,
						  &fault);
		mutex_unlock(&file->lock);
		if (ret != -EFAULT || !fault.len)
			break;
		if (fault_in_safe_writeable(fault.addr, fault.len))
			break;
		if (signal_pending(current)) {
			ret = -ERESTARTSYS;
			break;
		}
	}

	if (!ret && (cmd == P2PBUF_IMP_INFO || cmd == P2PBUF_IMP_STATUS) &&
	    copy_to_user(uarg, &arg, ksize))
		ret = -EFAULT;
	if (!ret && cmd == P2PBUF_IMP_DMA &&
	    arg.dma.flags == P2PBUF_IMP_DMA_FROM_BUF &&
	    copy_to_user(u64_to_user_ptr(arg.dma.data), kbuf, arg.dma.length))
		ret = -EFAULT;
	kfree(kbuf);
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
