// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf importer: the map/unmap cycle benchmark, in debugfs as the DMA
 * API's own benchmark is (kernel/dma/map_benchmark.c), never in the uAPI.
 *
 *   /sys/kernel/debug/p2pbuf_importer/<BDF>/map_cycles
 *
 * write "FD N": attach the dma-buf FD (a descriptor of the writer) to the
 * device as an import does, map and unmap it N times (1 to
 * P2PBUF_IMP_BENCH_MAX_CYCLES), each cycle under the buffer's dma_resv lock
 * taken for that cycle alone, timing dma_buf_map_attachment() and
 * dma_buf_unmap_attachment() with the monotonic clock, and detach. The write
 * returns when the cycles are done (-EINTR on a signal between cycles).
 * read: the result of the last write on this open file:
 *
 *   map_type <name>          the first mapping's enum p2pbuf_map_type name
 *   nr_segs <n>              its DMA segments
 *   cycles <n>
 *   <map_ns> <unmap_ns>      one line per cycle
 *
 * Timing in the kernel separates the exporter's cost from the system call
 * around it; nothing depends on the exporter, so the same loop measures
 * p2pbuf_exporter, vfio-pci, udmabuf or a dma-heap. debugfs is not an ABI:
 * the format may change with the benchmark that reads it (selftests/bench_map.c).
 */
#include <linux/debugfs.h>
#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "engine.h"
#include "p2pbuf_importer.h"

#define P2PBUF_IMP_BENCH_MAX_CYCLES	65536
/* "<u64> <u64>\n" at most. */
#define P2PBUF_IMP_BENCH_LINE		42

static struct dentry *p2pbuf_imp_debugfs_root;

/**
 * struct p2pbuf_imp_bench - one open map_cycles file
 * @idev: the device (the debugfs file is removed before it goes away).
 * @lock: serialises writes and reads of this open file.
 * @text: the last result, @len bytes.
 * @len: length of @text.
 */
struct p2pbuf_imp_bench {
	struct p2pbuf_imp_dev *idev;
	struct mutex lock;	/* @text, @len */
	char *text;
	size_t len;
};

/* A cycle maps and unmaps under the dma_resv lock: nothing to invalidate. */
static void p2pbuf_imp_bench_invalidate(struct dma_buf_attachment *attach)
{
}

static const struct dma_buf_attach_ops p2pbuf_imp_bench_attach_ops = {
	.allow_peer2peer	= true,
	.invalidate_mappings	= p2pbuf_imp_bench_invalidate,
};

struct p2pbuf_imp_bench_run {
	u32 map_type;
	u32 nr_segs;
	u64 (*ns)[2];
};

static int p2pbuf_imp_bench_cycle(struct pci_dev *pdev,
				  struct dma_buf_attachment *attach,
				  enum dma_data_direction dir,
				  struct p2pbuf_imp_bench_run *run, u32 i)
{
	struct dma_resv *resv = attach->dmabuf->resv;
	struct sg_table *sgt;
	u64 t0, t1, t2;
	int ret;

	ret = dma_resv_lock_interruptible(resv, NULL);
	if (ret)
		return ret;
	t0 = ktime_get_ns();
	sgt = dma_buf_map_attachment(attach, dir);
	t1 = ktime_get_ns();
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto out_unlock;
	}
	if (!i) {
		run->map_type = p2pbuf_imp_map_type(pdev, sgt);
		run->nr_segs = sgt->nents;
		t1 = ktime_get_ns();
	}
	dma_buf_unmap_attachment(attach, sgt, dir);
	t2 = ktime_get_ns();
	run->ns[i][0] = t1 - t0;
	run->ns[i][1] = t2 - t1;
out_unlock:
	dma_resv_unlock(resv);
	return ret;
}

static char *p2pbuf_imp_bench_format(const struct p2pbuf_imp_bench_run *run,
				     u32 n, size_t *len)
{
	static const char * const names[] = {
		[P2PBUF_MAP_UNKNOWN] = "UNKNOWN",
		[P2PBUF_MAP_NOT_P2P] = "NOT_P2P",
		[P2PBUF_MAP_BUS_ADDR] = "BUS_ADDR",
		[P2PBUF_MAP_HOST_BRIDGE_DIRECT] = "HOST_BRIDGE_DIRECT",
		[P2PBUF_MAP_HOST_BRIDGE_IOVA] = "HOST_BRIDGE_IOVA",
		[P2PBUF_MAP_NOT_SUPPORTED] = "NOT_SUPPORTED",
	};
	size_t size = 128 + (size_t)n * P2PBUF_IMP_BENCH_LINE, off;
	char *text;
	u32 i;

	text = kvmalloc(size, GFP_KERNEL);
	if (!text)
		return NULL;
	off = scnprintf(text, size, "map_type %s\nnr_segs %u\ncycles %u\n",
			run->map_type < ARRAY_SIZE(names) ?
			names[run->map_type] : "?", run->nr_segs, n);
	for (i = 0; i < n; i++)
		off += scnprintf(text + off, size - off, "%llu %llu\n",
				 run->ns[i][0], run->ns[i][1]);
	*len = off;
	return text;
}

/* Attach @fd to the device, run @n cycles, detach; the result in @b. */
static int p2pbuf_imp_bench_run(struct p2pbuf_imp_bench *b, int fd, u32 n)
{
	struct pci_dev *pdev = b->idev->pdev;
	struct dma_buf_attachment *attach;
	struct p2pbuf_imp_bench_run run = {};
	enum dma_data_direction dir;
	struct dma_buf *dmabuf;
	size_t len = 0;
	char *text;
	int ret = 0;
	u32 i;

	dmabuf = dma_buf_get(fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	/* As an import: the direction its mode allows, none refused. */
	if (!(dmabuf->file->f_mode & (FMODE_READ | FMODE_WRITE))) {
		ret = -EACCES;
		goto out_put;
	}
	dir = p2pbuf_imp_mode_dir(dmabuf->file->f_mode & FMODE_READ,
				  dmabuf->file->f_mode & FMODE_WRITE);
	run.ns = kvmalloc_array(n, sizeof(*run.ns), GFP_KERNEL);
	if (!run.ns) {
		ret = -ENOMEM;
		goto out_put;
	}
	attach = dma_buf_dynamic_attach(dmabuf, &pdev->dev,
					&p2pbuf_imp_bench_attach_ops, NULL);
	if (IS_ERR(attach)) {
		ret = PTR_ERR(attach);
		goto out_free;
	}
	for (i = 0; i < n; i++) {
		if (i && signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		ret = p2pbuf_imp_bench_cycle(pdev, attach, dir, &run, i);
		if (ret)
			break;
		cond_resched();
	}
	dma_buf_detach(dmabuf, attach);
	if (!ret) {
		text = p2pbuf_imp_bench_format(&run, n, &len);
		if (!text) {
			ret = -ENOMEM;
		} else {
			kvfree(b->text);
			b->text = text;
			b->len = len;
		}
	}
out_free:
	kvfree(run.ns);
out_put:
	dma_buf_put(dmabuf);
	return ret;
}

static ssize_t p2pbuf_imp_bench_write(struct file *filp,
				      const char __user *ubuf, size_t count,
				      loff_t *ppos)
{
	struct p2pbuf_imp_bench *b = filp->private_data;
	char cmd[32];
	u32 n;
	int fd, ret;

	if (!count || count >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, count))
		return -EFAULT;
	cmd[count] = '\0';
	if (sscanf(cmd, "%d %u", &fd, &n) != 2 || !n ||
	    n > P2PBUF_IMP_BENCH_MAX_CYCLES)
		return -EINVAL;
	if (mutex_lock_interruptible(&b->lock))
		return -ERESTARTSYS;
	ret = p2pbuf_imp_bench_run(b, fd, n);
	mutex_unlock(&b->lock);
	return ret ? ret : count;
}

static ssize_t p2pbuf_imp_bench_read(struct file *filp, char __user *ubuf,
				     size_t count, loff_t *ppos)
{
	struct p2pbuf_imp_bench *b = filp->private_data;
	ssize_t ret;

	if (mutex_lock_interruptible(&b->lock))
		return -ERESTARTSYS;
	ret = simple_read_from_buffer(ubuf, count, ppos, b->text, b->len);
	mutex_unlock(&b->lock);
	return ret;
}

static int p2pbuf_imp_bench_open(struct inode *inode, struct file *filp)
{
	struct p2pbuf_imp_bench *b = kzalloc_obj(*b);

	if (!b)
		return -ENOMEM;
	b->idev = inode->i_private;
	mutex_init(&b->lock);
	filp->private_data = b;
	return nonseekable_open(inode, filp);
}

static int p2pbuf_imp_bench_release(struct inode *inode, struct file *filp)
{
	struct p2pbuf_imp_bench *b = filp->private_data;

	mutex_destroy(&b->lock);
	kvfree(b->text);
	kfree(b);
	return 0;
}

static const struct file_operations p2pbuf_imp_bench_fops = {
	.owner		= THIS_MODULE,
	.open		= p2pbuf_imp_bench_open,
	.release	= p2pbuf_imp_bench_release,
	.read		= p2pbuf_imp_bench_read,
	.write		= p2pbuf_imp_bench_write,
};

/**
 * p2pbuf_imp_debugfs_add() - the debugfs directory of a bound device
 * @idev: the device, registered
 *
 * debugfs is optional: a failure is ignored, as debugfs wants.
 */
void p2pbuf_imp_debugfs_add(struct p2pbuf_imp_dev *idev)
{
	idev->debugfs = debugfs_create_dir(pci_name(idev->pdev),
					   p2pbuf_imp_debugfs_root);
	debugfs_create_file("map_cycles", 0600, idev->debugfs, idev,
			    &p2pbuf_imp_bench_fops);
}

/**
 * p2pbuf_imp_debugfs_remove() - remove a device's debugfs directory
 * @idev: the device, being unbound
 *
 * Context: Process context; waits for a map_cycles write in progress.
 */
void p2pbuf_imp_debugfs_remove(struct p2pbuf_imp_dev *idev)
{
	debugfs_remove(idev->debugfs);
	idev->debugfs = NULL;
}

/** p2pbuf_imp_debugfs_init() - create /sys/kernel/debug/p2pbuf_importer */
void p2pbuf_imp_debugfs_init(void)
{
	p2pbuf_imp_debugfs_root = debugfs_create_dir(KBUILD_MODNAME, NULL);
	p2pbuf_imp_engine_debugfs_init(p2pbuf_imp_debugfs_root);
}

/** p2pbuf_imp_debugfs_exit() - remove it, after the driver is unregistered */
void p2pbuf_imp_debugfs_exit(void)
{
	debugfs_remove(p2pbuf_imp_debugfs_root);
}
