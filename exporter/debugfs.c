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
#include <linux/pci-p2pdma.h>
#include <linux/seq_file.h>

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

	/* @edev->lock is held: the buffer cannot be freed under us. */
	ret = dma_resv_lock_interruptible(buf->dmabuf->resv, NULL);
	if (ret)
		return ret;

	list_for_each_entry(attach, &buf->dmabuf->attachments, node)
		live += ((struct p2pbuf_exp_attach *)attach->priv)->nr_mappings;
	seq_printf(s, "buffer %llu: %s bar %u size %#zx ranges %u %s revokes %u live-mappings %u\n",
		   buf->id, buf->owner ? "owned" : "orphaned", buf->bar,
		   buf->size, buf->nr_ranges,
		   buf->revoked ? "revoked" : "live", buf->revokes, live);
	for (i = 0; i < buf->nr_ranges; i++)
		seq_printf(s, "  range %u: offset %#llx len %#zx\n", i,
			   (u64)(buf->phys_vec[i].paddr - buf->bar_start),
			   buf->phys_vec[i].len);
	list_for_each_entry(attach, &buf->dmabuf->attachments, node) {
		struct p2pbuf_exp_attach *state = attach->priv;

		seq_printf(s, "  attachment %s: route %s map-type %s mappings %u\n",
			   dev_name(attach->dev),
			   p2pbuf_exp_route_name(state->route),
			   p2pbuf_exp_map_type_name(state->map_type),
			   state->nr_mappings);
	}

	dma_resv_unlock(buf->dmabuf->resv);
	return 0;
}

static int p2pbuf_exp_debugfs_state_show(struct seq_file *s, void *unused)
{
	struct p2pbuf_exp_dev *edev = s->private;
	struct p2pbuf_exp_buf *buf;
	int i, ret;

	ret = mutex_lock_interruptible(&edev->lock);
	if (ret)
		return ret;

	seq_printf(s, "device %s: %s\n", pci_name(edev->pdev),
		   edev->bound ? "bound" : "unbound");
	seq_puts(s, "refused attaches:");
	for (i = 0; i < P2PBUF_EXP_REFUSED_NR; i++)
		seq_printf(s, " %s %d", p2pbuf_exp_refusal_names[i],
			   atomic_read(&edev->refused[i]));
	seq_putc(s, '\n');

	list_for_each_entry(buf, &edev->bufs, node) {
		ret = p2pbuf_exp_debugfs_buf(s, buf);
		if (ret)
			break;
	}

	mutex_unlock(&edev->lock);
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
