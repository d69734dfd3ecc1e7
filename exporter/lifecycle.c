// SPDX-License-Identifier: GPL-2.0
/*
 * p2pbuf exporter: the device events that stop its BARs from decoding.
 *
 * Each callback revokes every buffer of the device before the BARs stop
 * decoding, with the event's own reason, and clears that reason when the
 * device is back (revoke.c composes the reasons and re-reads PCI_COMMAND
 * before anything goes live):
 *
 * - reset_prepare/reset_done: a function reset through sysfs "reset" or
 *   pci_reset_function() (FLR, PM reset, or a secondary bus reset through
 *   the upstream port). The core saves the config space before and
 *   restores it after.
 * - error_detected/slot_reset/resume: PCI error recovery (AER, DPC). An
 *   error may reset the link without restoring the config space, so
 *   slot_reset restores what probe saved (and saves it again for the next
 *   error), unless the device no longer answers config reads. A permanent
 *   failure leaves the buffers revoked until unbind.
 * - suspend/resume (and freeze/thaw, poweroff/restore): system sleep.
 * - runtime_suspend/runtime_resume: the device may go to D3hot or D3cold.
 *   Runtime PM is allowed only when userspace writes "auto" to the
 *   device's power/control; the exporter holds no runtime reference for its
 *   buffers, so allowing it revokes them whenever the device idles.
 */
#include <linux/pci.h>
#include <linux/pm.h>

#include "p2pbuf_exporter.h"

static void p2pbuf_exp_reset_prepare(struct pci_dev *pdev)
{
	p2pbuf_exp_event_revoke(pci_get_drvdata(pdev), P2PBUF_EXP_REVOKED_RESET);
}

static void p2pbuf_exp_reset_done(struct pci_dev *pdev)
{
	p2pbuf_exp_event_restore(pci_get_drvdata(pdev), P2PBUF_EXP_REVOKED_RESET);
}

static pci_ers_result_t p2pbuf_exp_error_detected(struct pci_dev *pdev,
						  pci_channel_state_t state)
{
	p2pbuf_exp_event_revoke(pci_get_drvdata(pdev), P2PBUF_EXP_REVOKED_ERROR);
	pci_info(pdev, "PCI error (channel state %u): buffers revoked\n", state);

	switch (state) {
	case pci_channel_io_normal:
		return PCI_ERS_RESULT_CAN_RECOVER;
	case pci_channel_io_frozen:
		return PCI_ERS_RESULT_NEED_RESET;
	default:
		return PCI_ERS_RESULT_DISCONNECT;
	}
}

static pci_ers_result_t p2pbuf_exp_mmio_enabled(struct pci_dev *pdev)
{
	return PCI_ERS_RESULT_RECOVERED;
}

static pci_ers_result_t p2pbuf_exp_slot_reset(struct pci_dev *pdev)
{
	/*
	 * A device that does not answer a config read of its vendor ID after
	 * the reset is gone: restoring would write its BARs into the void,
	 * and the buffers must stay revoked.
	 */
	if (!pci_device_is_present(pdev)) {
		pci_warn(pdev, "not responding after reset: buffers stay revoked\n");
		return PCI_ERS_RESULT_DISCONNECT;
	}

	/*
	 * The link was reset without restore: BARs and decode are gone.
	 * pci_restore_state() consumes the saved state; save it again for the
	 * next error.
	 */
	pci_restore_state(pdev);
	pci_save_state(pdev);
	return PCI_ERS_RESULT_RECOVERED;
}

static void p2pbuf_exp_error_resume(struct pci_dev *pdev)
{
	p2pbuf_exp_event_restore(pci_get_drvdata(pdev), P2PBUF_EXP_REVOKED_ERROR);
	pci_info(pdev, "PCI error recovered\n");
}

const struct pci_error_handlers p2pbuf_exp_err_handlers = {
	.error_detected	= p2pbuf_exp_error_detected,
	.mmio_enabled	= p2pbuf_exp_mmio_enabled,
	.slot_reset	= p2pbuf_exp_slot_reset,
	.resume		= p2pbuf_exp_error_resume,
	.reset_prepare	= p2pbuf_exp_reset_prepare,
	.reset_done	= p2pbuf_exp_reset_done,
};

static int p2pbuf_exp_suspend(struct device *dev)
{
	p2pbuf_exp_event_revoke(dev_get_drvdata(dev), P2PBUF_EXP_REVOKED_SUSPEND);
	return 0;
}

static int p2pbuf_exp_resume(struct device *dev)
{
	p2pbuf_exp_event_restore(dev_get_drvdata(dev), P2PBUF_EXP_REVOKED_SUSPEND);
	return 0;
}

static int p2pbuf_exp_runtime_suspend(struct device *dev)
{
	p2pbuf_exp_event_revoke(dev_get_drvdata(dev),
				P2PBUF_EXP_REVOKED_RUNTIME_PM);
	return 0;
}

static int p2pbuf_exp_runtime_resume(struct device *dev)
{
	p2pbuf_exp_event_restore(dev_get_drvdata(dev),
				 P2PBUF_EXP_REVOKED_RUNTIME_PM);
	return 0;
}

const struct dev_pm_ops p2pbuf_exp_pm_ops = {
	SYSTEM_SLEEP_PM_OPS(p2pbuf_exp_suspend, p2pbuf_exp_resume)
	RUNTIME_PM_OPS(p2pbuf_exp_runtime_suspend, p2pbuf_exp_runtime_resume,
		       NULL)
};
