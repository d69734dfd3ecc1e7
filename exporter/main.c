// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf exporter: PCI driver skeleton (bind through driver_override).
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>

static int p2pbuf_exp_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = pcim_p2pdma_init(pdev);
	if (ret && ret != -EOPNOTSUPP)
		return ret;
	dev_dbg(&pdev->dev, "bound\n");
	return 0;
}

static void p2pbuf_exp_remove(struct pci_dev *pdev)
{
	dev_dbg(&pdev->dev, "unbound\n");
}

static struct pci_driver p2pbuf_exp_driver = {
	.name		= KBUILD_MODNAME,
	.probe		= p2pbuf_exp_probe,
	.remove		= p2pbuf_exp_remove,
};
module_pci_driver(p2pbuf_exp_driver);

MODULE_DESCRIPTION("p2pbuf: export PCI BAR ranges as peer-to-peer dma-bufs");
MODULE_LICENSE("GPL");
