// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf exporter: debugfs view of the driver state, for debugging only
 * (not an ABI).
 *
 * /sys/kernel/debug/p2pbuf_exporter/<BDF>/state lists the device's buffers
 * with their ranges, revoke state and attachments, including buffers whose
 * exporter file was closed or whose device was unbound but whose dma-buf
 * is still open.
 */
#include <linux/debugfs.h>
#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/file.h>
#include <linux/pci-p2pdma.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string_choices.h>

#include "p2pbuf_exporter.h"

static struct dentry *p2pbuf_exp_debugfs_root;

static const char * const p2pbuf_exp_refusal_names[P2PBUF_EXP_REFUSED_NR] = {
	[P2PBUF_EXP_REFUSED_NO_P2P]		= "no-p2p",
	[P2PBUF_EXP_REFUSED_NOT_REVOCABLE]	= "not-revocable",
	[P2PBUF_EXP_REFUSED_REVOKED]		= "revoked",
	[P2PBUF_EXP_REFUSED_NO_ROUTE]		= "no-route",
};

static const char *p2pbuf_exp_route_name(int route)
{
	return route == PCI_P2PDMA_MAP_BUS_ADDR ? "switch" : "host-bridge";
}

static int p2pbuf_exp_debugfs_buf(struct seq_file *s,
				  struct p2pbuf_exp_buf *buf)
{
	struct dma_buf_attachment *attach;
	u32 i, live = 0;
	int ret;

	/* The caller holds a file reference: the buffer cannot be freed. */
	ret = dma_resv_lock_interruptible(buf->dmabuf->resv, NULL);
	if (ret)
		return ret;

	list_for_each_entry(attach, &buf->dmabuf->attachments, node)
		live += ((struct p2pbuf_exp_attach *)attach->priv)->nr_mappings;
	seq_printf(s, "buffer %llu: %s bar %u size %#zx ranges %u %s revokes %u live-mappings %u reasons %#x\n",
		   buf->id, READ_ONCE(buf->owner) ? "owned" : "orphaned",
		   buf->bar, buf->size, buf->nr_ranges,
		   buf->revoked ? "revoked" : "live", buf->revokes, live,
		   buf->revoked);
	for (i = 0; i < buf->nr_ranges; i++)
		seq_printf(s, "  range %u: offset %#llx len %#zx\n", i,
			   (u64)(buf->phys_vec[i].paddr - buf->bar_start),
			   buf->phys_vec[i].len);
	list_for_each_entry(attach, &buf->dmabuf->attachments, node) {
		struct p2pbuf_exp_attach *state = attach->priv;

		seq_printf(s, "  attachment %s: route %s map-type %s mappings %u cached-table %s\n",
			   dev_name(attach->dev),
			   p2pbuf_exp_route_name(state->route),
			   p2pbuf_exp_map_type_name(state->map_type),
			   state->nr_mappings, str_yes_no(state->bus_sgt));
	}

	dma_resv_unlock(buf->dmabuf->resv);
	return 0;
}

static int p2pbuf_exp_debugfs_state_show(struct seq_file *s, void *unused)
{
	struct p2pbuf_exp_dev *edev = s->private;
	struct p2pbuf_exp_buf *buf, **bufs;
	unsigned int n = 0, nr = 0, k;
	int i, ret;

	ret = mutex_lock_interruptible(&edev->lock);
	if (ret)
		return ret;

	seq_printf(s, "device %s: %s events %#x claimed-bars %#x route-mismatches %d\n",
		   pci_name(edev->pdev), edev->bound ? "bound" : "unbound",
		   edev->events, edev->claimed,
		   atomic_read(&edev->route_mismatches));
	seq_puts(s, "refused attaches:");
	for (i = 0; i < P2PBUF_EXP_REFUSED_NR; i++)
		seq_printf(s, " %s %d", p2pbuf_exp_refusal_names[i],
			   atomic_read(&edev->refused[i]));
	seq_putc(s, '\n');

	/*
	 * Take a file reference on each buffer and print them after dropping
	 * @edev->lock: waiting for a resv lock under it would stall every
	 * export and release of the device behind one busy buffer.
	 */
	list_for_each_entry(buf, &edev->bufs, node)
		nr++;
	bufs = kmalloc_array(nr, sizeof(*bufs), GFP_KERNEL);
	if (!bufs && nr) {
		mutex_unlock(&edev->lock);
		return -ENOMEM;
	}
	list_for_each_entry(buf, &edev->bufs, node)
		if (get_file_active(&buf->dmabuf->file))
			bufs[n++] = buf;
	mutex_unlock(&edev->lock);

	for (k = 0; k < n; k++) {
		if (!ret)
			ret = p2pbuf_exp_debugfs_buf(s, bufs[k]);
		fput(bufs[k]->dmabuf->file);
	}
	kfree(bufs);
	return ret;
}
DEFINE_SHOW_ATTRIBUTE(p2pbuf_exp_debugfs_state);

/**
 * p2pbuf_exp_debugfs_init() - create the driver's debugfs directory
 *
 * Failures are ignored, as debugfs users should.
 */
void p2pbuf_exp_debugfs_init(void)
{
	p2pbuf_exp_debugfs_root = debugfs_create_dir(KBUILD_MODNAME, NULL);
}

/**
 * p2pbuf_exp_debugfs_exit() - remove the driver's debugfs directory
 */
void p2pbuf_exp_debugfs_exit(void)
{
	debugfs_remove(p2pbuf_exp_debugfs_root);
}

/**
 * p2pbuf_exp_debugfs_add() - create the debugfs directory of a device
 * @edev: the device being probed
 */
void p2pbuf_exp_debugfs_add(struct p2pbuf_exp_dev *edev)
{
	edev->debugfs = debugfs_create_dir(pci_name(edev->pdev),
					   p2pbuf_exp_debugfs_root);
	debugfs_create_file("state", 0400, edev->debugfs, edev,
			    &p2pbuf_exp_debugfs_state_fops);
}

/**
 * p2pbuf_exp_debugfs_remove() - remove the debugfs directory of a device
 * @edev: the device being removed
 *
 * debugfs_remove() waits for readers of "state", so @edev may go away
 * afterwards.
 */
void p2pbuf_exp_debugfs_remove(struct p2pbuf_exp_dev *edev)
{
	debugfs_remove(edev->debugfs);
}
