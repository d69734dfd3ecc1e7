// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf exporter: PCI driver and module.
 *
 * The driver binds to any PCI device it is pointed at, through
 * driver_override or the ids= module parameter (as vfio-pci does), and
 * gives it a character device through which ranges of its memory BARs are
 * exported as peer-to-peer dma-bufs.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kref.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/pm_runtime.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "p2pbuf_exporter.h"

static char p2pbuf_exp_ids[1024] __initdata;
module_param_string(ids, p2pbuf_exp_ids, sizeof(p2pbuf_exp_ids), 0);
MODULE_PARM_DESC(ids, "Initial PCI IDs to bind, \"vendor:device[:subvendor:subdevice[:class:class_mask]]\", comma separated");

static void p2pbuf_exp_dev_release(struct kref *kref)
{
	struct p2pbuf_exp_dev *edev =
		container_of(kref, struct p2pbuf_exp_dev, kref);

	WARN_ON(!list_empty(&edev->bufs));
	mutex_destroy(&edev->lock);
	mutex_destroy(&edev->revoke_lock);
	pci_dev_put(edev->pdev);
	kfree(edev);
}

/**
 * p2pbuf_exp_dev_get() - take a reference on the driver state of a device
 * @edev: the device
 *
 * The state outlives remove() while a file or a buffer still refers to it;
 * only @edev->bound tells whether the device is still there.
 */
void p2pbuf_exp_dev_get(struct p2pbuf_exp_dev *edev)
{
	kref_get(&edev->kref);
}

/**
 * p2pbuf_exp_dev_put() - drop a reference taken by p2pbuf_exp_dev_get()
 * @edev: the device
 *
 * Context: may free @edev; must not be called with @edev->lock held.
 */
void p2pbuf_exp_dev_put(struct p2pbuf_exp_dev *edev)
{
	kref_put(&edev->kref, p2pbuf_exp_dev_release);
}

static int p2pbuf_exp_probe(struct pci_dev *pdev,
			    const struct pci_device_id *id)
{
	struct p2pbuf_exp_dev *edev;
	int ret;

	/* As vfio-pci: bridges' BARs and windows are not ours to export. */
	if (pdev->hdr_type != PCI_HEADER_TYPE_NORMAL) {
		pci_dbg(pdev, "not a normal function (header type %u): not binding\n",
			pdev->hdr_type);
		return -EINVAL;
	}

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;

	/*
	 * A device whose BARs p2pdma refuses (non_mappable_bars, or a kernel
	 * without CONFIG_PCI_P2PDMA) stays bound: INFO reports no provider
	 * and every EXPORT fails with -EOPNOTSUPP, because
	 * pcim_p2pdma_provider() returns NULL for it.
	 */
	ret = pcim_p2pdma_init(pdev);
	if (ret == -EOPNOTSUPP)
		dev_info(&pdev->dev, "BARs cannot be p2pdma providers, nothing can be exported\n");
	else if (ret)
		return ret;

	edev = kzalloc_obj(*edev);
	if (!edev)
		return -ENOMEM;

	kref_init(&edev->kref);
	edev->pdev = pci_dev_get(pdev);
	mutex_init(&edev->revoke_lock);
	mutex_init(&edev->lock);
	INIT_LIST_HEAD(&edev->bufs);
	INIT_DELAYED_WORK(&edev->decode_work, p2pbuf_exp_decode_work);
	edev->bound = true;
	pci_set_drvdata(pdev, edev);

	ret = p2pbuf_exp_cdev_register(edev);
	if (ret)
		goto err_put_edev;

	p2pbuf_exp_debugfs_add(edev);
	/* What error recovery restores after a reset without restore. */
	pci_save_state(pdev);
	p2pbuf_exp_decode_poll_start(edev);
	/* Let runtime PM suspend the device once userspace allows it. */
	pm_runtime_put_noidle(&pdev->dev);
	return 0;

err_put_edev:
	p2pbuf_exp_dev_put(edev);
	return ret;
}

static void p2pbuf_exp_remove(struct pci_dev *pdev)
{
	struct p2pbuf_exp_dev *edev = pci_get_drvdata(pdev);

	/* The driver core resumed the device; keep it so, as probe found it. */
	pm_runtime_get_noresume(&pdev->dev);

	/* No new opens; files already open keep @edev alive. */
	p2pbuf_exp_cdev_unregister(edev);

	/*
	 * The p2pdma providers and the MMIO go away when this returns
	 * (devres). Stop new exports, then revoke every buffer and wait until
	 * no importer maps any of them. Revoked buffers never touch their
	 * provider again and nobody can restore them: RESTORE checks @bound.
	 * remove() cannot fail, so neither the lock nor the wait is killable.
	 */
	mutex_lock(&edev->revoke_lock);
	mutex_lock(&edev->lock);
	edev->bound = false;
	mutex_unlock(&edev->lock);
	p2pbuf_exp_revoke(edev, NULL, NULL, P2PBUF_EXP_REVOKED_UNBOUND, false);
	WRITE_ONCE(edev->removed, true);
	mutex_unlock(&edev->revoke_lock);
	/* It no longer re-arms itself: @bound is clear. */
	cancel_delayed_work_sync(&edev->decode_work);

	p2pbuf_exp_debugfs_remove(edev);
	p2pbuf_exp_dev_put(edev);
}

static struct pci_driver p2pbuf_exp_driver = {
	.name		= KBUILD_MODNAME,
	.probe		= p2pbuf_exp_probe,
	.remove		= p2pbuf_exp_remove,
	.err_handler	= &p2pbuf_exp_err_handlers,
	.driver.pm	= pm_ptr(&p2pbuf_exp_pm_ops),
};

static void __init p2pbuf_exp_add_ids(void)
{
	char *p = p2pbuf_exp_ids, *id;

	while ((id = strsep(&p, ","))) {
		unsigned int vendor, device, subvendor = PCI_ANY_ID;
		unsigned int subdevice = PCI_ANY_ID, class = 0, class_mask = 0;
		int fields, ret;

		if (!*id)
			continue;

		fields = sscanf(id, "%x:%x:%x:%x:%x:%x", &vendor, &device,
				&subvendor, &subdevice, &class, &class_mask);
		if (fields < 2) {
			pr_warn("invalid id \"%s\"\n", id);
			continue;
		}

		ret = pci_add_dynid(&p2pbuf_exp_driver, vendor, device,
				    subvendor, subdevice, class, class_mask, 0);
		if (ret)
			pr_warn("cannot add id %04x:%04x (%d)\n",
				vendor, device, ret);
	}
}

static int __init p2pbuf_exp_init(void)
{
	int ret;

	p2pbuf_exp_debugfs_init();

	ret = pci_register_driver(&p2pbuf_exp_driver);
	if (ret) {
		p2pbuf_exp_debugfs_exit();
		return ret;
	}

	/* pci_add_dynid() needs the driver registered; it probes at once. */
	p2pbuf_exp_add_ids();
	return 0;
}
module_init(p2pbuf_exp_init);

static void __exit p2pbuf_exp_exit(void)
{
	pci_unregister_driver(&p2pbuf_exp_driver);
	p2pbuf_exp_debugfs_exit();
}
module_exit(p2pbuf_exp_exit);

MODULE_IMPORT_NS("DMA_BUF");
MODULE_DESCRIPTION("p2pbuf: export PCI BAR ranges as peer-to-peer dma-bufs");
MODULE_LICENSE("GPL");
