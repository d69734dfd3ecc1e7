// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf_labexp: a lab-only dma-buf exporter of system pages, for the
 * importer's tests. It implements what the exporters the lab otherwise has
 * (udmabuf, the system dma-heap, p2pbuf_exporter, vfio-pci) do not:
 *
 * - .pin/.unpin, counted in debugfs (p2pbuf_labexp/pinned, pin_calls,
 *   unpin_calls), so that a test can see an importer pin and unpin;
 * - an invalidation on request (P2PBUF_LABEXP_INVALIDATE), as an exporter
 *   that moves a buffer does, pinned attachments included;
 * - optionally an invalidation from inside .pin (debugfs invalidate_in_pin),
 *   i.e. while the importer is still setting the attachment up;
 * - a CPU mapping whose page faults can be parked (P2PBUF_LABEXP_PARK), to
 *   stand in for a userfaultfd- or FUSE-backed page (the lab kernel has
 *   neither): a fault waits until unparked, at most 10 s.
 *
 * Interface, /dev/p2pbuf-labexp (root only):
 *   ioctl(fd, P2PBUF_LABEXP_CREATE, size)      -> new dma-buf fd (O_RDWR)
 *   ioctl(fd, P2PBUF_LABEXP_INVALIDATE, dmabuf) -> 0
 *   ioctl(fd, P2PBUF_LABEXP_PARK, 0 or 1)      -> 0
 * The numbers are repeated in selftests/importer_safety_test.c; this module
 * has no uAPI header because it is not a product.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/wait.h>

#define P2PBUF_LABEXP_CREATE		_IO('L', 0x01)
#define P2PBUF_LABEXP_INVALIDATE	_IO('L', 0x02)
#define P2PBUF_LABEXP_PARK		_IO('L', 0x03)

#define P2PBUF_LABEXP_MAX_SIZE		(64UL << 20)
#define P2PBUF_LABEXP_PARK_MAX		(10 * HZ)

/**
 * struct p2pbuf_labexp_buf - one exported buffer
 * @nr_pages: number of pages.
 * @pinned: attachments of this buffer pinned now, under its dma_resv lock.
 * @pages: the pages.
 */
struct p2pbuf_labexp_buf {
	unsigned long nr_pages;
	unsigned int pinned;
	struct page *pages[] __counted_by(nr_pages);
};

static struct dentry *p2pbuf_labexp_dir;
static atomic_t p2pbuf_labexp_pinned;
static atomic_t p2pbuf_labexp_pin_calls;
static atomic_t p2pbuf_labexp_unpin_calls;
static bool p2pbuf_labexp_inval_in_pin;
static bool p2pbuf_labexp_park;
static DECLARE_WAIT_QUEUE_HEAD(p2pbuf_labexp_park_wq);

static int p2pbuf_labexp_pin(struct dma_buf_attachment *attach)
{
	struct p2pbuf_labexp_buf *buf = attach->dmabuf->priv;

	dma_resv_assert_held(attach->dmabuf->resv);
	buf->pinned++;
	atomic_inc(&p2pbuf_labexp_pinned);
	atomic_inc(&p2pbuf_labexp_pin_calls);
	if (READ_ONCE(p2pbuf_labexp_inval_in_pin))
		dma_buf_invalidate_mappings(attach->dmabuf);
	return 0;
}

static void p2pbuf_labexp_unpin(struct dma_buf_attachment *attach)
{
	struct p2pbuf_labexp_buf *buf = attach->dmabuf->priv;

	dma_resv_assert_held(attach->dmabuf->resv);
	if (WARN_ON_ONCE(!buf->pinned))
		return;
	buf->pinned--;
	atomic_dec(&p2pbuf_labexp_pinned);
	atomic_inc(&p2pbuf_labexp_unpin_calls);
}

static struct sg_table *p2pbuf_labexp_map(struct dma_buf_attachment *attach,
					  enum dma_data_direction dir)
{
	struct p2pbuf_labexp_buf *buf = attach->dmabuf->priv;
	struct sg_table *sgt;
	int ret;

	dma_resv_assert_held(attach->dmabuf->resv);
	sgt = kzalloc_obj(*sgt);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	/* Segments no longer than the importing device takes. */
	ret = sg_alloc_table_from_pages_segment(sgt, buf->pages, buf->nr_pages,
						0, buf->nr_pages << PAGE_SHIFT,
						dma_get_max_seg_size(attach->dev),
						GFP_KERNEL);
	if (ret)
		goto err_free_sgt;
	ret = dma_map_sgtable(attach->dev, sgt, dir, 0);
	if (ret)
		goto err_free_table;
	return sgt;

err_free_table:
	sg_free_table(sgt);
err_free_sgt:
	kfree(sgt);
	return ERR_PTR(ret);
}

static void p2pbuf_labexp_unmap(struct dma_buf_attachment *attach,
				struct sg_table *sgt,
				enum dma_data_direction dir)
{
	dma_resv_assert_held(attach->dmabuf->resv);
	dma_unmap_sgtable(attach->dev, sgt, dir, 0);
	sg_free_table(sgt);
	kfree(sgt);
}

static vm_fault_t p2pbuf_labexp_fault(struct vm_fault *vmf)
{
	struct p2pbuf_labexp_buf *buf = vmf->vma->vm_private_data;
	struct page *page;

	if (vmf->pgoff >= buf->nr_pages)
		return VM_FAULT_SIGBUS;
	/* A parked fault stands in for a userfaultfd page nobody serves. */
	wait_event_killable_timeout(p2pbuf_labexp_park_wq,
				    !READ_ONCE(p2pbuf_labexp_park),
				    P2PBUF_LABEXP_PARK_MAX);
	page = buf->pages[vmf->pgoff];
	return vmf_insert_pfn(vmf->vma, vmf->address, page_to_pfn(page));
}

static const struct vm_operations_struct p2pbuf_labexp_vm_ops = {
	.fault = p2pbuf_labexp_fault,
};

static int p2pbuf_labexp_mmap(struct dma_buf *dmabuf,
			      struct vm_area_struct *vma)
{
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	vma->vm_ops = &p2pbuf_labexp_vm_ops;
	vma->vm_private_data = dmabuf->priv;
	vm_flags_set(vma, VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
	return 0;
}

static void p2pbuf_labexp_free(struct p2pbuf_labexp_buf *buf)
{
	unsigned long i;

	for (i = 0; i < buf->nr_pages; i++)
		if (buf->pages[i])
			__free_page(buf->pages[i]);
	kvfree(buf);
}

static void p2pbuf_labexp_release(struct dma_buf *dmabuf)
{
	struct p2pbuf_labexp_buf *buf = dmabuf->priv;

	/* Every importer must have unpinned before it detached. */
	WARN_ON_ONCE(buf->pinned);
	p2pbuf_labexp_free(buf);
}

static const struct dma_buf_ops p2pbuf_labexp_ops = {
	.pin		= p2pbuf_labexp_pin,
	.unpin		= p2pbuf_labexp_unpin,
	.map_dma_buf	= p2pbuf_labexp_map,
	.unmap_dma_buf	= p2pbuf_labexp_unmap,
	.mmap		= p2pbuf_labexp_mmap,
	.release	= p2pbuf_labexp_release,
};

static long p2pbuf_labexp_create(unsigned long size)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct p2pbuf_labexp_buf *buf;
	struct dma_buf *dmabuf;
	unsigned long i, n;
	int fd;

	if (!size || size > P2PBUF_LABEXP_MAX_SIZE || !PAGE_ALIGNED(size))
		return -EINVAL;
	n = size >> PAGE_SHIFT;
	buf = kvzalloc_flex(*buf, pages, n);
	if (!buf)
		return -ENOMEM;
	buf->nr_pages = n;
	for (i = 0; i < n; i++) {
		buf->pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!buf->pages[i]) {
			p2pbuf_labexp_free(buf);
			return -ENOMEM;
		}
	}
	exp_info.ops = &p2pbuf_labexp_ops;
	exp_info.size = size;
	exp_info.flags = O_RDWR;
	exp_info.priv = buf;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		p2pbuf_labexp_free(buf);
		return PTR_ERR(dmabuf);
	}
	fd = dma_buf_fd(dmabuf, O_CLOEXEC);
	if (fd < 0)
		dma_buf_put(dmabuf);
	return fd;
}

static long p2pbuf_labexp_invalidate(int fd)
{
	struct dma_buf *dmabuf = dma_buf_get(fd);
	long ret = 0;

	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	if (dmabuf->ops != &p2pbuf_labexp_ops) {
		ret = -EINVAL;
		goto out_put;
	}
	dma_resv_lock(dmabuf->resv, NULL);
	dma_buf_invalidate_mappings(dmabuf);
	dma_resv_unlock(dmabuf->resv);
out_put:
	dma_buf_put(dmabuf);
	return ret;
}

static long p2pbuf_labexp_ioctl(struct file *filp, unsigned int cmd,
				unsigned long arg)
{
	switch (cmd) {
	case P2PBUF_LABEXP_CREATE:
		return p2pbuf_labexp_create(arg);
	case P2PBUF_LABEXP_INVALIDATE:
		return p2pbuf_labexp_invalidate(arg);
	case P2PBUF_LABEXP_PARK:
		WRITE_ONCE(p2pbuf_labexp_park, !!arg);
		wake_up_all(&p2pbuf_labexp_park_wq);
		return 0;
	}
	return -ENOTTY;
}

static const struct file_operations p2pbuf_labexp_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= p2pbuf_labexp_ioctl,
};

static struct miscdevice p2pbuf_labexp_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "p2pbuf-labexp",
	.fops	= &p2pbuf_labexp_fops,
	.mode	= 0600,
};

static int __init p2pbuf_labexp_init(void)
{
	struct dentry *dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	int ret;

	p2pbuf_labexp_dir = dir;
	debugfs_create_atomic_t("pinned", 0400, dir, &p2pbuf_labexp_pinned);
	debugfs_create_atomic_t("pin_calls", 0400, dir,
				&p2pbuf_labexp_pin_calls);
	debugfs_create_atomic_t("unpin_calls", 0400, dir,
				&p2pbuf_labexp_unpin_calls);
	debugfs_create_bool("invalidate_in_pin", 0600, dir,
			    &p2pbuf_labexp_inval_in_pin);
	ret = misc_register(&p2pbuf_labexp_misc);
	if (ret)
		debugfs_remove(dir);
	return ret;
}
module_init(p2pbuf_labexp_init);

static void __exit p2pbuf_labexp_exit(void)
{
	misc_deregister(&p2pbuf_labexp_misc);
	debugfs_remove(p2pbuf_labexp_dir);
}
module_exit(p2pbuf_labexp_exit);

MODULE_DESCRIPTION("p2pbuf lab: test exporter of system pages with pin counting");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS("DMA_BUF");
MODULE_INFO(test, "Y");
