// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf importer: the PCI driver and the module.
 *
 * The driver has no ID table: a device is bound through driver_override, or
 * through IDs given in the "ids" parameter, which are added as dynamic IDs
 * the way vfio-pci does it. Every bound device gets a misc device
 * /dev/p2pbuf-imp-<BDF> through which userspace imports dma-bufs into it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "p2pbuf_importer.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

static char p2pbuf_imp_ids[1024] __initdata;
module_param_string(ids, p2pbuf_imp_ids, sizeof(p2pbuf_imp_ids), 0);
MODULE_PARM_DESC(ids,
		 "PCI IDs to bind at load, \"vendor:device[:subvendor[:subdevice[:class[:class_mask]]]]\", comma separated");

/* debugfs: test knobs only, not an ABI (docs/importer.rst). */

static void p2pbuf_imp_dev_free(struct kref *kref)
{
	struct p2pbuf_imp_dev *idev = container_of(kref, struct p2pbuf_imp_dev,
						   kref);

	mutex_destroy(&idev->engine.lock);
	mutex_destroy(&idev->lock);
	kfree(idev->misc.name);
	pci_dev_put(idev->pdev);
	kfree(idev);
}

/**
 * p2pbuf_imp_dev_put() - drop a reference to a bound device's state
 * @idev: the device state
 *
 * The last reference, the driver binding's or an open file's, frees it.
 */
void p2pbuf_imp_dev_put(struct p2pbuf_imp_dev *idev)
{
	kref_put(&idev->kref, p2pbuf_imp_dev_free);
}

static int p2pbuf_imp_probe(struct pci_dev *pdev,
			    const struct pci_device_id *id)
{
	struct p2pbuf_imp_dev *idev;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;

	idev = kzalloc_obj(*idev);
	if (!idev)
		return -ENOMEM;
	kref_init(&idev->kref);
	idev->pdev = pci_dev_get(pdev);
	mutex_init(&idev->lock);
	INIT_LIST_HEAD(&idev->files);
	mutex_init(&idev->engine.lock);

	/*
	 * The engine's backend decides the DMA mask (what the device can
	 * address: a mapping beyond it is refused) and bus mastering.
	 */
	ret = p2pbuf_imp_engine_probe(&idev->engine, pdev);
	if (ret)
		goto err_put_idev;

	idev->misc.name = kasprintf(GFP_KERNEL, "p2pbuf-imp-%s", pci_name(pdev));
	if (!idev->misc.name) {
		ret = -ENOMEM;
		goto err_remove_engine;
	}
	idev->misc.minor = MISC_DYNAMIC_MINOR;
	idev->misc.fops = &p2pbuf_imp_fops;
	idev->misc.parent = &pdev->dev;
	idev->misc.mode = 0600;
	ret = misc_register(&idev->misc);
	if (ret)
		goto err_remove_engine;

	pci_set_drvdata(pdev, idev);
	p2pbuf_imp_debugfs_add(idev);
	dev_dbg(&pdev->dev, "bound, engine %s\n",
		idev->engine.ops ? idev->engine.ops->name : "none");
	return 0;

err_remove_engine:
	p2pbuf_imp_engine_remove(&idev->engine);
err_put_idev:
	p2pbuf_imp_dev_put(idev);
	return ret;
}

/*
 * Unbinding must leave no mapping behind: every import of every open file is
 * unmapped and detached before remove() returns. The files stay open; their
 * ioctls fail with -ENODEV from here on.
 */
static void p2pbuf_imp_remove(struct pci_dev *pdev)
{
	struct p2pbuf_imp_dev *idev = pci_get_drvdata(pdev);
	struct p2pbuf_imp_file *file;

	/* Waits for a map_cycles run in progress (debugfs.c). */
	p2pbuf_imp_debugfs_remove(idev);
	/* misc_deregister() waits for open() calls in progress. */
	misc_deregister(&idev->misc);

	mutex_lock(&idev->lock);
	idev->dead = true;
	list_for_each_entry(file, &idev->files, node)
		p2pbuf_imp_file_kill(file);
	mutex_unlock(&idev->lock);

	p2pbuf_imp_engine_remove(&idev->engine);
	dev_dbg(&pdev->dev, "unbound\n");
	p2pbuf_imp_dev_put(idev);
}

static struct pci_driver p2pbuf_imp_driver = {
	.name		= KBUILD_MODNAME,
	.probe		= p2pbuf_imp_probe,
	.remove		= p2pbuf_imp_remove,
};

static void __init p2pbuf_imp_add_ids(void)
{
	char *p = p2pbuf_imp_ids, *id;

	while ((id = strsep(&p, ","))) {
		unsigned int vendor, device, subvendor = PCI_ANY_ID;
		unsigned int subdevice = PCI_ANY_ID, class = 0, class_mask = 0;
		int ret;

		if (!*id)
			continue;
		if (sscanf(id, "%x:%x:%x:%x:%x:%x", &vendor, &device,
			   &subvendor, &subdevice, &class, &class_mask) < 2) {
			pr_warn("invalid id \"%s\"\n", id);
			continue;
		}
		ret = pci_add_dynid(&p2pbuf_imp_driver, vendor, device,
				    subvendor, subdevice, class, class_mask, 0);
		if (ret)
			pr_warn("cannot add id %04x:%04x: %d\n",
				vendor, device, ret);
	}
}

static int __init p2pbuf_imp_init(void)
{
	int ret;

	p2pbuf_imp_debugfs_init();
	ret = pci_register_driver(&p2pbuf_imp_driver);
	if (ret) {
		p2pbuf_imp_debugfs_exit();
		return ret;
	}
	p2pbuf_imp_add_ids();
	return 0;
}
module_init(p2pbuf_imp_init);

static void __exit p2pbuf_imp_exit(void)
{
	pci_unregister_driver(&p2pbuf_imp_driver);
	p2pbuf_imp_debugfs_exit();
}
module_exit(p2pbuf_imp_exit);

MODULE_DESCRIPTION("p2pbuf: revocable peer-to-peer dma-buf importer");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS("DMA_BUF");
