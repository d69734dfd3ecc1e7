// SPDX-License-Identifier: GPL-2.0
/*
 * importer_test: p2pbuf_importer on its own and with dma-bufs from other
 * exporters: the ioctl ABI's rejections, udmabuf and system dma-heap imports
 * (page backed: NOT_P2P), pinned imports, data moved by the device's DMA
 * engine, events, unbinding with open files, and vfio-pci's dma-buf exporter
 * revoking an import when the vfio device is closed, and the benchmark
 * plumbing outside the uAPI (debugfs map_cycles, tracepoints).
 *
 * Needs a device bound to p2pbuf_importer (P2PBUF_INITIATOR_BDF in the lab);
 * skips otherwise. The vfio-pci tests need P2PBUF_VFIO_BDF, an unbound
 * device with a memory BAR 2, and give it back unbound.
 *
 * A kselftest_harness.h program is one translation unit: the harness keeps
 * its list of fixtures and tests in static variables and defines
 * _fixture_global, so tests in another .c file would never be listed or run
 * (and the link fails). The tests are therefore grouped by subject in the
 * importer_*_tests.h files below, each included once, here, in the order the
 * harness lists and runs them.
 */
#define _GNU_SOURCE

#include "importer_abi_tests.h"
#include "importer_map_tests.h"
#include "importer_file_tests.h"
#include "importer_vfio_tests.h"
#include "importer_lockdep_tests.h"
#include "importer_timing_tests.h"

TEST_HARNESS_MAIN
