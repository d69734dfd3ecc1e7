// SPDX-License-Identifier: GPL-2.0
/*
 * importer_safety_test: what keeps p2pbuf_importer safe with buffers it does
 * not own (docs/importer.rst, "Safety"): access modes, the engine's DMA
 * reach and bus mastering, stopping the device after an engine timeout,
 * pinning and the opener's credentials, and bounded work under the
 * exporter's dma_resv lock and the file's lock.
 *
 * Needs a device bound to p2pbuf_importer (P2PBUF_INITIATOR_BDF in the lab);
 * the pin, fence and user-copy tests need the lab's test exporter
 * p2pbuf_labexp (lab/test-modules/p2pbuf_labexp), the BAR tests the lab's
 * provider bound to p2pbuf_exporter, the 1 GiB test a guest with 2 GiB of
 * memory or more (P2PBUF_MEM=2G); each skips with its reason otherwise.
 * One translation unit (kselftest_harness.h), its groups included here.
 */
#define _GNU_SOURCE

#include "importer_access_tests.h"
#include "importer_mask_tests.h"
#include "importer_pin_tests.h"
#include "importer_bounded_tests.h"
#include "importer_stop_tests.h"

TEST_HARNESS_MAIN
