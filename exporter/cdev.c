// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf exporter: the character device and its ioctls.
 *
 * Every ioctl argument starts with argsz (see <linux/p2pbuf_exporter.h>).
 * Each handler copies and validates its argument completely before it
 * changes anything, so a rejected call creates nothing.
 */
#include <linux/dma-buf.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/pm_runtime.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "p2pbuf_exporter.h"

/*
 * Copy an ioctl argument whose first field is its size, vfio's way: an
 * argsz below @minsz (the structure's first ABI version) is -EINVAL, above
 * a page -E2BIG (so that nobody makes us scan gigabytes for zeros); up to
 * @ksize, the kernel's version, the fields userspace did not pass read as
 * zero; beyond it, the bytes we do not know must be zero (-E2BIG).
 * *@argszp gets argsz, to copy back no more than userspace passed.
 */
static int p2pbuf_exp_copy_args(void *karg, size_t ksize, size_t minsz,
				void __user *uarg, u32 *argszp)
{
	u32 argsz;

	if (get_user(argsz, (u32 __user *)uarg))
		return -EFAULT;
	if (argsz < minsz)
		return -EINVAL;
	if (argsz > PAGE_SIZE)
		return -E2BIG;
	*argszp = argsz;
	return copy_struct_from_user(karg, ksize, uarg, argsz);
}

/* Copy an ioctl argument back, no more of it than userspace passed. */
static int p2pbuf_exp_copy_back(void __user *uarg, const void *karg,
				size_t ksize, u32 argsz)
{
	return copy_to_user(uarg, karg, min_t(size_t, ksize, argsz)) ?
	       -EFAULT : 0;
}

#define P2PBUF_EXP_INFO_MINSZ	offsetofend(struct p2pbuf_exp_info, bars)
#define P2PBUF_EXP_EXPORT_MINSZ	offsetofend(struct p2pbuf_exp_export, reserved)
#define P2PBUF_EXP_REVOKE_MINSZ	offsetofend(struct p2pbuf_exp_revoke, reserved)
#define P2PBUF_EXP_QUERY_MINSZ	offsetofend(struct p2pbuf_exp_query, reserved)

static bool p2pbuf_exp_bound(struct p2pbuf_exp_dev *edev)
{
	bool bound;

	mutex_lock(&edev->lock);
	bound = edev->bound;
	mutex_unlock(&edev->lock);
	return bound;
}

static u32 p2pbuf_exp_bar_flags(struct pci_dev *pdev, int bar)
{
	unsigned long res = pci_resource_flags(pdev, bar);
	u32 flags = 0;

	if (res & IORESOURCE_MEM)
		flags |= P2PBUF_EXP_BAR_MEM;
	if (res & IORESOURCE_MEM_64)
		flags |= P2PBUF_EXP_BAR_MEM64;
	if (res & IORESOURCE_PREFETCH)
		flags |= P2PBUF_EXP_BAR_PREFETCH;
	if (p2pbuf_exp_bar_exportable(pdev, bar))
		flags |= P2PBUF_EXP_BAR_PROVIDER;
	return flags;
}

static long p2pbuf_exp_ioctl_info(struct p2pbuf_exp_dev *edev,
				  void __user *uarg)
{
	struct p2pbuf_exp_info info;
	int bar, ret;
	u32 argsz;

	ret = p2pbuf_exp_copy_args(&info, sizeof(info), P2PBUF_EXP_INFO_MINSZ,
				   uarg, &argsz);
	if (ret)
		return ret;
	if (info.flags || info.reserved)
		return -EINVAL;

	mutex_lock(&edev->lock);
	if (!edev->bound) {
		mutex_unlock(&edev->lock);
		return -ENODEV;
	}
	info.nr_bars = P2PBUF_EXP_NUM_BARS;
	for (bar = 0; bar < P2PBUF_EXP_NUM_BARS; bar++) {
		info.bars[bar].size = pci_resource_len(edev->pdev, bar);
		info.bars[bar].flags = p2pbuf_exp_bar_flags(edev->pdev, bar);
		info.bars[bar].reserved = 0;
	}
	mutex_unlock(&edev->lock);

	return p2pbuf_exp_copy_back(uarg, &info, sizeof(info), argsz);
}

/*
 * Checks that need no device: every range non-zero and page aligned, its
 * end representable, and a total size without bit 63 (which
 * dma_iova_try_alloc() would WARN about). Whether the ranges fit the BAR is
 * checked under the device lock by p2pbuf_exp_export().
 */
static int p2pbuf_exp_check_ranges(const struct p2pbuf_exp_range *ranges,
				   u32 nr_ranges, size_t *sizep)
{
	size_t size = 0;
	u64 end;
	u32 i;

	for (i = 0; i < nr_ranges; i++) {
		const struct p2pbuf_exp_range *r = &ranges[i];

		if (!r->length || !PAGE_ALIGNED(r->offset) ||
		    !PAGE_ALIGNED(r->length))
			return -EINVAL;
		if (check_add_overflow(r->offset, r->length, &end))
			return -EOVERFLOW;
		if (check_add_overflow(size, r->length, &size))
			return -EINVAL;
	}
	if ((u64)size & DMA_IOVA_USE_SWIOTLB)
		return -EINVAL;

	*sizep = size;
	return 0;
}

static long p2pbuf_exp_ioctl_export(struct file *file, void __user *uarg)
{
	struct p2pbuf_exp_dev *edev = file->private_data;
	struct p2pbuf_exp_range *ranges;
	struct p2pbuf_exp_export exp;
	struct dma_buf *dmabuf;
	size_t size;
	int fd, ret;
	u32 argsz;

	ret = p2pbuf_exp_copy_args(&exp, sizeof(exp), P2PBUF_EXP_EXPORT_MINSZ,
				   uarg, &argsz);
	if (ret)
		return ret;
	if ((exp.flags & ~P2PBUF_EXP_EXPORT_DEVICE_READONLY) || exp.reserved)
		return -EINVAL;
	if ((exp.open_flags & ~(O_CLOEXEC | O_ACCMODE)) ||
	    (exp.open_flags & O_ACCMODE) == O_ACCMODE)
		return -EINVAL;
	if (exp.bar >= PCI_STD_NUM_BARS || !exp.nr_ranges)
		return -EINVAL;
	if (exp.nr_ranges > P2PBUF_EXP_MAX_RANGES)
		return -E2BIG;

	/* Not memdup_array_user(): the allocation is the user's, accounted. */
	ranges = kvmalloc_array(exp.nr_ranges, sizeof(*ranges),
				GFP_KERNEL_ACCOUNT);
	if (!ranges)
		return -ENOMEM;
	if (copy_from_user(ranges, u64_to_user_ptr(exp.ranges),
			   array_size(exp.nr_ranges, sizeof(*ranges)))) {
		ret = -EFAULT;
		goto out_free_ranges;
	}

	ret = p2pbuf_exp_check_ranges(ranges, exp.nr_ranges, &size);
	if (ret)
		goto out_free_ranges;

	/* Reserve the fd first: running out of fds must not create a buffer. */
	fd = get_unused_fd_flags(exp.open_flags & O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto out_free_ranges;
	}

	dmabuf = p2pbuf_exp_export(edev, file, exp.bar, ranges, exp.nr_ranges,
				   size, exp.open_flags & O_ACCMODE,
				   exp.flags & P2PBUF_EXP_EXPORT_DEVICE_READONLY);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto err_put_fd;
	}

	exp.fd = fd;
	exp.size = size;
	ret = p2pbuf_exp_copy_back(uarg, &exp, sizeof(exp), argsz);
	if (ret)
		goto err_put_dmabuf;

	/* Nothing can fail any more: publish the fd, which takes our reference. */
	dma_buf_fd_install(dmabuf, fd);
	kvfree(ranges);
	return 0;

err_put_dmabuf:
	dma_buf_put(dmabuf);
err_put_fd:
	put_unused_fd(fd);
out_free_ranges:
	kvfree(ranges);
	return ret;
}

static long p2pbuf_exp_ioctl_revoke(struct file *file, void __user *uarg,
				    bool revoke)
{
	struct p2pbuf_exp_dev *edev = file->private_data;
	struct p2pbuf_exp_buf *buf = NULL;
	struct p2pbuf_exp_revoke rv;
	u32 argsz;
	int ret;

	ret = p2pbuf_exp_copy_args(&rv, sizeof(rv), P2PBUF_EXP_REVOKE_MINSZ,
				   uarg, &argsz);
	if (ret)
		return ret;
	if ((rv.flags & ~P2PBUF_EXP_REVOKE_ALL) || rv.reserved)
		return -EINVAL;

	if (rv.flags & P2PBUF_EXP_REVOKE_ALL) {
		if (rv.fd != -1)
			return -EINVAL;
	} else {
		buf = p2pbuf_exp_buf_get(edev, file, rv.fd);
		if (IS_ERR(buf))
			return PTR_ERR(buf);
	}

	/* Holding revoke_lock, nobody can clear @bound under us. */
	ret = mutex_lock_killable(&edev->revoke_lock);
	if (ret)
		goto out_put_buf;
	if (!p2pbuf_exp_bound(edev)) {
		ret = -ENODEV;
	} else if (revoke) {
		ret = p2pbuf_exp_revoke(edev, file, buf,
					P2PBUF_EXP_REVOKED_USER, true);
		rv.count = ret;
	} else {
		/* Decode may have gone off since the last check: look first. */
		ret = p2pbuf_exp_check_decode_locked(edev, true);
		if (!ret)
			ret = p2pbuf_exp_restore(edev, file, buf,
						 P2PBUF_EXP_REVOKED_USER, true);
		rv.count = ret;
	}
	mutex_unlock(&edev->revoke_lock);

out_put_buf:
	if (buf)
		p2pbuf_exp_buf_put(buf);
	if (ret < 0)
		return ret;
	return p2pbuf_exp_copy_back(uarg, &rv, sizeof(rv), argsz);
}

static long p2pbuf_exp_ioctl_query(struct file *file, void __user *uarg)
{
	struct p2pbuf_exp_dev *edev = file->private_data;
	struct p2pbuf_exp_attach_state *states = NULL;
	struct p2pbuf_exp_buf *buf;
	struct p2pbuf_exp_query q;
	u32 nr_states = 0, argsz;
	int ret;

	ret = p2pbuf_exp_copy_args(&q, sizeof(q), P2PBUF_EXP_QUERY_MINSZ, uarg,
				   &argsz);
	if (ret)
		return ret;
	if (q.flags || q.reserved || q.reserved2)
		return -EINVAL;

	buf = p2pbuf_exp_buf_get(edev, file, q.fd);
	if (IS_ERR(buf))
		return PTR_ERR(buf);

	if (!p2pbuf_exp_bound(edev))
		ret = -ENODEV;
	else
		ret = p2pbuf_exp_query(buf, &q, &states, &nr_states);
	p2pbuf_exp_buf_put(buf);
	if (ret)
		return ret;

	if (nr_states &&
	    copy_to_user(u64_to_user_ptr(q.attachments), states,
			 array_size(nr_states, sizeof(*states))))
		ret = -EFAULT;
	else
		ret = p2pbuf_exp_copy_back(uarg, &q, sizeof(q), argsz);
	kvfree(states);
	return ret;
}

static long p2pbuf_exp_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	struct p2pbuf_exp_dev *edev = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case P2PBUF_EXP_INFO:
	case P2PBUF_EXP_EXPORT:
	case P2PBUF_EXP_REVOKE:
	case P2PBUF_EXP_RESTORE:
	case P2PBUF_EXP_QUERY:
		break;
	default:
		return -ENOTTY;
	}

	/*
	 * After unbind every ioctl fails, before its argument is looked at.
	 * The handlers check again where it matters, under the lock.
	 */
	if (!p2pbuf_exp_bound(edev))
		return -ENODEV;

	switch (cmd) {
	case P2PBUF_EXP_INFO:
		return p2pbuf_exp_ioctl_info(edev, uarg);
	case P2PBUF_EXP_EXPORT:
		return p2pbuf_exp_ioctl_export(file, uarg);
	case P2PBUF_EXP_REVOKE:
		return p2pbuf_exp_ioctl_revoke(file, uarg, true);
	case P2PBUF_EXP_RESTORE:
		return p2pbuf_exp_ioctl_revoke(file, uarg, false);
	default:
		return p2pbuf_exp_ioctl_query(file, uarg);
	}
}

static int p2pbuf_exp_open(struct inode *inode, struct file *file)
{
	struct p2pbuf_exp_dev *edev = container_of(file->private_data,
						   struct p2pbuf_exp_dev, misc);
	int ret;

	/*
	 * misc_open() calls us under misc_mtx, and remove() deregisters the
	 * misc device before it drops the binding's reference, so @edev is
	 * alive here.
	 *
	 * As vfio-pci does while its device is open: an open file holds the
	 * device out of runtime suspend, since the importers' DMA into its
	 * BARs is no use of the device the PM core can see. Its buffers are
	 * revoked for good when it closes, so a runtime-suspended device has
	 * no live buffer. @edev->pdev stays valid until the release's put:
	 * @edev holds a reference to it.
	 */
	ret = pm_runtime_resume_and_get(&edev->pdev->dev);
	if (ret)
		return ret;
	p2pbuf_exp_dev_get(edev);
	file->private_data = edev;
	return nonseekable_open(inode, file);
}

static int p2pbuf_exp_release(struct inode *inode, struct file *file)
{
	struct p2pbuf_exp_dev *edev = file->private_data;

	/*
	 * Buffers live on as dma-buf files, but with their exporter file
	 * gone nobody may restore them: revoke them for good. A release cannot
	 * fail, and it may run at exit with a fatal signal pending, so the
	 * lock and the wait for the importers are not killable: the wait
	 * lasts as long as they take (see p2pbuf_exp_revoke()).
	 */
	mutex_lock(&edev->revoke_lock);
	p2pbuf_exp_revoke(edev, file, NULL, P2PBUF_EXP_REVOKED_CLOSED, false);
	p2pbuf_exp_disown(edev, file);
	mutex_unlock(&edev->revoke_lock);

	pm_runtime_put(&edev->pdev->dev);
	p2pbuf_exp_dev_put(edev);
	return 0;
}

static const struct file_operations p2pbuf_exp_fops = {
	.owner		= THIS_MODULE,
	.open		= p2pbuf_exp_open,
	.release	= p2pbuf_exp_release,
	.unlocked_ioctl	= p2pbuf_exp_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

/**
 * p2pbuf_exp_cdev_register() - create /dev/p2pbuf-exp-<BDF>
 * @edev: the device being probed
 *
 * The node is root-only (0600) and its sysfs parent is the PCI device.
 *
 * Return: 0 or a negative errno from misc_register().
 */
int p2pbuf_exp_cdev_register(struct p2pbuf_exp_dev *edev)
{
	snprintf(edev->name, sizeof(edev->name), "p2pbuf-exp-%s",
		 pci_name(edev->pdev));
	edev->misc.minor = MISC_DYNAMIC_MINOR;
	edev->misc.name = edev->name;
	edev->misc.fops = &p2pbuf_exp_fops;
	edev->misc.parent = &edev->pdev->dev;
	edev->misc.mode = 0600;
	return misc_register(&edev->misc);
}

/**
 * p2pbuf_exp_cdev_unregister() - remove the character device
 * @edev: the device being removed
 *
 * Files already open stay usable until closed; their ioctls fail with
 * -ENODEV once @edev->bound is cleared.
 */
void p2pbuf_exp_cdev_unregister(struct p2pbuf_exp_dev *edev)
{
	misc_deregister(&edev->misc);
}
