// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf importer: PCI driver skeleton (bind through driver_override).
 */
#include <linux/module.h>
#include <linux/pci.h>

static int p2pbuf_imp_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	dev_dbg(&pdev->dev, "bound\n");
	return 0;
}

static void p2pbuf_imp_remove(struct pci_dev *pdev)
{
	dev_dbg(&pdev->dev, "unbound\n");
}

static struct pci_driver p2pbuf_imp_driver = {
	.name		= KBUILD_MODNAME,
	.probe		= p2pbuf_imp_probe,
	.remove		= p2pbuf_imp_remove,
};
module_pci_driver(p2pbuf_imp_driver);

MODULE_DESCRIPTION("p2pbuf: revocable peer-to-peer dma-buf importer");
MODULE_LICENSE("GPL");
