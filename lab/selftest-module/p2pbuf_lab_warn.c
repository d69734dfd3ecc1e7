// SPDX-License-Identifier: GPL-2.0
/*
 * Harness self-test module: WARNs once when loaded, so that the lab's splat
 * detector can be shown to fail a run. Never part of the normal pass.
 */
#include <linux/bug.h>
#include <linux/module.h>

static int __init p2pbuf_lab_warn_init(void)
{
	WARN(1, "p2pbuf lab harness self-test: deliberate warning\n");
	return 0;
}
module_init(p2pbuf_lab_warn_init);

static void __exit p2pbuf_lab_warn_exit(void)
{
}
module_exit(p2pbuf_lab_warn_exit);

MODULE_DESCRIPTION("p2pbuf lab harness self-test: a module that WARNs");
MODULE_LICENSE("GPL");
MODULE_INFO(test, "Y");
