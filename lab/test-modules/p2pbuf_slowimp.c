// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf_slowimp: a misbehaving dma-buf importer for the lab, never part of
 * the product. It lets selftests/revoke_slow_test.c check what an exporter
 * does with importers that are slow to let go: one that keeps its mapping
 * after invalidate_mappings (for a given time, unmapped then by a delayed
 * work item, or until told), one without invalidate_mappings that still
 * asks for peer2peer, one without peer2peer. p2pbuf_slowimp.h documents
 * the misc device /dev/p2pbuf-slowimp and its ioctls.
 *
 * The attaching device is a PCI device named by the caller, which the
 * importer borrows (a reference, no binding) and never programs: it only
 * creates mappings for it. The lab passes the initiator (edu), which
 * p2pbuf_importer drives, because it is the one device with a p2pdma route
 * to the provider in every topology that has one: in "switch" the second
 * ivshmem sits on the root bus, and -cpu max is no Zen CPU, so p2pdma
 * refuses that route (shared/notes/qemu-lab.md), and that ivshmem belongs
 * to the vfio-pci tests. The exporter's reports tell the two importers of
 * the edu apart by their invalidate_mappings callback.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

/* Its ABI lives with its user, the selftests (selftests/p2pbuf_slowimp.h). */
#include "p2pbuf_slowimp.h"

/**
 * struct p2pbuf_slowimp - one open file and its import
 * @lock: serialises the ioctls of the file; outside the dma_resv lock.
 * @pdev: the borrowed attaching device (reference held), NULL before IMPORT.
 * @dmabuf: the imported buffer (reference held), NULL before IMPORT.
 * @attach: the dynamic attachment.
 * @flags: P2PBUF_SLOWIMP_* of the import.
 * @hold_ms: how long an invalidated mapping is kept, 0 until LET_GO.
 * @let_go: unmaps a kept mapping when @hold_ms has passed.
 * @sgt: the mapping, NULL when unmapped.
 * @held: @sgt was kept after an invalidation.
 * @invalidations: invalidate_mappings calls.
 * @inval_ns: ktime_get_ns() of the latest invalidation.
 * @unmap_ns: ktime_get_ns() when the latest unmap began (the importer let go).
 *
 * The fields from @sgt on are under the buffer's dma_resv lock.
 */
struct p2pbuf_slowimp {
	struct mutex lock;	/* ioctls */
	struct pci_dev *pdev;
	struct dma_buf *dmabuf;
	struct dma_buf_attachment *attach;
	u32 flags;
	u32 hold_ms;
	struct delayed_work let_go;

	struct sg_table *sgt;
	bool held;
	u32 invalidations;
	u64 inval_ns;
	u64 unmap_ns;
};

static void p2pbuf_slowimp_unmap_locked(struct p2pbuf_slowimp *imp)
{
	dma_resv_assert_held(imp->dmabuf->resv);

	if (!imp->sgt)
		return;
	/*
	 * Before the call: the exporter's wait may end inside it, and the op
	 * it ends can return before it does.
	 */
	imp->unmap_ns = ktime_get_ns();
	dma_buf_unmap_attachment(imp->attach, imp->sgt, DMA_BIDIRECTIONAL);
	imp->sgt = NULL;
	imp->held = false;
}

static void p2pbuf_slowimp_let_go_work(struct work_struct *work)
{
	struct p2pbuf_slowimp *imp =
		container_of(to_delayed_work(work), struct p2pbuf_slowimp,
			     let_go);

	dma_resv_lock(imp->dmabuf->resv, NULL);
	if (imp->held) {
		pr_info("%s: letting go after %u ms\n", pci_name(imp->pdev),
			imp->hold_ms);
		p2pbuf_slowimp_unmap_locked(imp);
	}
	dma_resv_unlock(imp->dmabuf->resv);
}

static void p2pbuf_slowimp_invalidate(struct dma_buf_attachment *attach)
{
	struct p2pbuf_slowimp *imp = attach->importer_priv;

	dma_resv_assert_held(attach->dmabuf->resv);

	imp->invalidations++;
	imp->inval_ns = ktime_get_ns();
	if (!imp->sgt || imp->held)
		return;
	if (!(imp->flags & P2PBUF_SLOWIMP_HOLD)) {
		p2pbuf_slowimp_unmap_locked(imp);
		return;
	}
	/* The misbehaviour: return with the mapping still in place. */
	imp->held = true;
	if (imp->hold_ms) {
		pr_info("%s: keeping an invalidated mapping for %u ms\n",
			pci_name(imp->pdev), imp->hold_ms);
		mod_delayed_work(system_dfl_wq, &imp->let_go,
				 msecs_to_jiffies(imp->hold_ms));
	} else {
		pr_info("%s: keeping an invalidated mapping until told\n",
			pci_name(imp->pdev));
	}
}

/* Indexed by (flags & (NOT_REVOCABLE | NO_P2P)) >> 1. */
static const struct dma_buf_attach_ops p2pbuf_slowimp_ops[] = {
	{
		.allow_peer2peer	= true,
		.invalidate_mappings	= p2pbuf_slowimp_invalidate,
	},
	{	/* NOT_REVOCABLE */
		.allow_peer2peer	= true,
	},
	{	/* NO_P2P */
		.invalidate_mappings	= p2pbuf_slowimp_invalidate,
	},
	{	/* NOT_REVOCABLE | NO_P2P */
	},
};

static struct pci_dev *p2pbuf_slowimp_find_dev(const char *name)
{
	unsigned int domain, bus, slot, func;
	struct pci_dev *pdev;
	char end;

	if (sscanf(name, "%x:%x:%x.%x%c", &domain, &bus, &slot, &func,
		   &end) != 4 || bus > 0xff || slot > 0x1f || func > 7)
		return ERR_PTR(-EINVAL);
	pdev = pci_get_domain_bus_and_slot(domain, bus, PCI_DEVFN(slot, func));
	return pdev ? pdev : ERR_PTR(-ENODEV);
}

static int p2pbuf_slowimp_import(struct p2pbuf_slowimp *imp, void __user *uarg)
{
	struct p2pbuf_slowimp_import arg;
	struct dma_buf_attachment *attach;
	struct dma_buf *dmabuf;
	struct pci_dev *pdev;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if ((arg.flags & ~P2PBUF_SLOWIMP_FLAGS) || arg.reserved ||
	    !memchr(arg.dev, '\0', sizeof(arg.dev)))
		return -EINVAL;
	if (imp->dmabuf)
		return -EBUSY;

	pdev = p2pbuf_slowimp_find_dev(arg.dev);
	if (IS_ERR(pdev))
		return PTR_ERR(pdev);
	dmabuf = dma_buf_get(arg.fd);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto err_put_pdev;
	}

	imp->flags = arg.flags;
	imp->hold_ms = arg.hold_ms;
	imp->dmabuf = dmabuf;
	imp->pdev = pdev;
	attach = dma_buf_dynamic_attach(dmabuf, &pdev->dev,
					&p2pbuf_slowimp_ops[(arg.flags >> 1) & 3],
					imp);
	if (IS_ERR(attach)) {
		ret = PTR_ERR(attach);
		goto err_put_dmabuf;
	}
	imp->attach = attach;
	return 0;

err_put_dmabuf:
	imp->dmabuf = NULL;
	imp->pdev = NULL;
	dma_buf_put(dmabuf);
err_put_pdev:
	pci_dev_put(pdev);
	return ret;
}

static int p2pbuf_slowimp_map(struct p2pbuf_slowimp *imp)
{
	struct sg_table *sgt;
	int ret;

	ret = dma_resv_lock_interruptible(imp->dmabuf->resv, NULL);
	if (ret)
		return ret;
	if (imp->sgt) {
		ret = -EBUSY;
		goto out_unlock;
	}
	sgt = dma_buf_map_attachment(imp->attach, DMA_BIDIRECTIONAL);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto out_unlock;
	}
	imp->sgt = sgt;
out_unlock:
	dma_resv_unlock(imp->dmabuf->resv);
	return ret;
}

static int p2pbuf_slowimp_do_let_go(struct p2pbuf_slowimp *imp)
{
	int ret;

	cancel_delayed_work_sync(&imp->let_go);
	ret = dma_resv_lock_interruptible(imp->dmabuf->resv, NULL);
	if (ret)
		return ret;
	if (imp->held) {
		pr_info("%s: letting go when told\n", pci_name(imp->pdev));
		p2pbuf_slowimp_unmap_locked(imp);
	} else {
		ret = -ENXIO;
	}
	dma_resv_unlock(imp->dmabuf->resv);
	return ret;
}

static int p2pbuf_slowimp_status(struct p2pbuf_slowimp *imp, void __user *uarg)
{
	struct p2pbuf_slowimp_status st = {};
	int ret;

	ret = dma_resv_lock_interruptible(imp->dmabuf->resv, NULL);
	if (ret)
		return ret;
	if (imp->sgt)
		st.state |= P2PBUF_SLOWIMP_MAPPED;
	if (imp->held)
		st.state |= P2PBUF_SLOWIMP_HELD;
	st.invalidations = imp->invalidations;
	st.inval_ns = imp->inval_ns;
	st.unmap_ns = imp->unmap_ns;
	dma_resv_unlock(imp->dmabuf->resv);

	return copy_to_user(uarg, &st, sizeof(st)) ? -EFAULT : 0;
}

static long p2pbuf_slowimp_ioctl(struct file *file, unsigned int cmd,
				 unsigned long arg)
{
	struct p2pbuf_slowimp *imp = file->private_data;
	void __user *uarg = (void __user *)arg;
	long ret;

	switch (cmd) {
	case P2PBUF_SLOWIMP_IMPORT:
	case P2PBUF_SLOWIMP_MAP:
	case P2PBUF_SLOWIMP_LET_GO:
	case P2PBUF_SLOWIMP_STATUS:
		break;
	default:
		return -ENOTTY;
	}

	mutex_lock(&imp->lock);
	if (cmd == P2PBUF_SLOWIMP_IMPORT)
		ret = p2pbuf_slowimp_import(imp, uarg);
	else if (!imp->dmabuf)
		ret = -ENOENT;
	else if (cmd == P2PBUF_SLOWIMP_MAP)
		ret = p2pbuf_slowimp_map(imp);
	else if (cmd == P2PBUF_SLOWIMP_LET_GO)
		ret = p2pbuf_slowimp_do_let_go(imp);
	else
		ret = p2pbuf_slowimp_status(imp, uarg);
	mutex_unlock(&imp->lock);
	return ret;
}

static int p2pbuf_slowimp_open(struct inode *inode, struct file *file)
{
	struct p2pbuf_slowimp *imp;

	imp = kzalloc_obj(*imp);
	if (!imp)
		return -ENOMEM;
	mutex_init(&imp->lock);
	INIT_DELAYED_WORK(&imp->let_go, p2pbuf_slowimp_let_go_work);
	file->private_data = imp;
	return nonseekable_open(inode, file);
}

static int p2pbuf_slowimp_release(struct inode *inode, struct file *file)
{
	struct p2pbuf_slowimp *imp = file->private_data;

	if (imp->dmabuf) {
		dma_resv_lock(imp->dmabuf->resv, NULL);
		p2pbuf_slowimp_unmap_locked(imp);
		dma_resv_unlock(imp->dmabuf->resv);
		/* Detached, the callback cannot queue the work any more. */
		dma_buf_detach(imp->dmabuf, imp->attach);
		cancel_delayed_work_sync(&imp->let_go);
		dma_buf_put(imp->dmabuf);
		pci_dev_put(imp->pdev);
	}
	mutex_destroy(&imp->lock);
	kfree(imp);
	return 0;
}

static const struct file_operations p2pbuf_slowimp_fops = {
	.owner		= THIS_MODULE,
	.open		= p2pbuf_slowimp_open,
	.release	= p2pbuf_slowimp_release,
	.unlocked_ioctl	= p2pbuf_slowimp_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice p2pbuf_slowimp_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "p2pbuf-slowimp",
	.fops	= &p2pbuf_slowimp_fops,
	.mode	= 0600,
};

static int __init p2pbuf_slowimp_init(void)
{
	return misc_register(&p2pbuf_slowimp_misc);
}
module_init(p2pbuf_slowimp_init);

static void __exit p2pbuf_slowimp_exit(void)
{
	misc_deregister(&p2pbuf_slowimp_misc);
}
module_exit(p2pbuf_slowimp_exit);

MODULE_IMPORT_NS("DMA_BUF");
MODULE_DESCRIPTION("p2pbuf lab: a dma-buf importer that is slow to let go");
MODULE_LICENSE("GPL");
MODULE_INFO(test, "Y");
