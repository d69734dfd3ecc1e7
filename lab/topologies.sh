# SPDX-License-Identifier: GPL-2.0
# Named lab topologies. Sourced by vm.sh. Each sets, for topology $1:
#   TOPO_CPU      QEMU -cpu model
#   TOPO_DEVICES  QEMU -device arguments (array)
#   TOPO_APPEND   extra kernel command line
#   TOPO_EXPECT   map type p2pdma is expected to choose (see docs/lab.rst)
#   TOPO_MEM      guest RAM (P2PBUF_MEM overrides; default 1G)
#   TOPO_LEAK_CYCLES  cycles of selftests/leak_test (P2PBUF_LEAK_CYCLES
#                 overrides): the full 10000 in switch (about 20 ms a cycle
#                 under TCG+KASAN), 1000 in the others to keep make check's
#                 time (docs/faults.rst has the measured times)
#   TOPO_AER_PORT QEMU id of the PCIe port above the provider, where
#                 selftests/lifecycle_test injects AER errors
#   TOPO_RACE_ITERS  lock-step iterations of each selftests/race_test race
#                 (P2PBUF_RACE_ITERS overrides): 2000 in switch, 500 in the
#                 others (docs/stress.rst has the measured times)
#   TOPO_EDU_DMA_BITS  address bits the edu device reaches: 64 with the
#                 lab's dma_mask=all ones; 28, QEMU's default, when
#                 P2PBUF_EDU_STOCK=1 boots a stock edu (no dma_mask=), which
#                 shows the importer refusing what the device cannot reach
#                 (selftests/importer_mask_tests.h). The guest passes it to
#                 p2pbuf_importer's edu_dma_bits.
# make check boots every topology of P2PBUF_TOPOLOGIES; others run only when
# named in P2PBUF_TOPOS. Those of P2PBUF_MAPTYPE_TOPOLOGIES exist to prove a
# map type the other four cannot show (ACS redirect, an identity domain): a
# suite runs there only if its line in selftests/suites names them.
# Memory backends m0 (provider BAR), m1 (second ivshmem, for vfio-pci) are
# created by vm.sh. Facts behind each expectation: shared/notes/qemu-lab.md.

P2PBUF_TOPOLOGIES="switch rp-zen rp-zen-iommu intel mf-acs-iommu switch-passthrough"
P2PBUF_MAPTYPE_TOPOLOGIES="mf-acs-iommu switch-passthrough"

if [ "${P2PBUF_EDU_STOCK:-0}" = 1 ]; then
	EDU="edu"
	TOPO_EDU_DMA_BITS=28
else
	EDU="edu,dma_mask=0xffffffffffffffff"
	TOPO_EDU_DMA_BITS=64
fi

topo_two_root_ports() {
	TOPO_DEVICES+=(
		-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=0x4
		-device pcie-root-port,id=rp2,bus=pcie.0,chassis=2,addr=0x5
		-device ivshmem-plain,memdev=m0,bus=rp1
		-device "$EDU,bus=rp2"
	)
}

topo_select() {
	TOPO_DEVICES=()
	TOPO_APPEND=""
	TOPO_LEAK_CYCLES=1000
	TOPO_RACE_ITERS=500
	TOPO_MEM=1G
	TOPO_AER_PORT=rp1
	case "$1" in
	switch)
		# (a) provider and initiator behind one PCIe switch: BUS_ADDR.
		# 5-level paging off: with it, KASAN reports wild accesses in early boot.
		TOPO_CPU=max,la57=off
		TOPO_EXPECT=BUS_ADDR
		TOPO_LEAK_CYCLES=10000
		TOPO_RACE_ITERS=2000
		TOPO_AER_PORT=dsp1
		TOPO_DEVICES+=(
			-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=0x4
			-device x3130-upstream,id=usp,bus=rp1
			-device xio3130-downstream,id=dsp1,bus=usp,chassis=2,slot=1
			-device xio3130-downstream,id=dsp2,bus=usp,chassis=3,slot=2
			-device ivshmem-plain,memdev=m0,bus=dsp1
			-device "$EDU,bus=dsp2"
		)
		TOPO_APPEND="vfio.enable_unsafe_noiommu_mode=1"
		;;
	rp-zen)
		# (b) different root ports, AMD Zen CPU: THRU_HOST_BRIDGE, dma-direct.
		TOPO_CPU=EPYC
		TOPO_EXPECT=HOST_BRIDGE_DIRECT
		topo_two_root_ports
		TOPO_APPEND="vfio.enable_unsafe_noiommu_mode=1"
		;;
	rp-zen-iommu)
		# (c) as (b) with a virtual IOMMU: THRU_HOST_BRIDGE through an IOVA.
		TOPO_CPU=EPYC
		TOPO_EXPECT=HOST_BRIDGE_IOVA
		TOPO_DEVICES+=(-device intel-iommu)
		topo_two_root_ports
		TOPO_APPEND="no_timer_check"	# as (e): interrupt remapping
		# importer_safety_test's 1 GiB udmabuf behind the IOMMU.
		TOPO_MEM=3G
		;;
	intel)
		# (d) Intel CPU, q35 host bridge 8086:29c0 not allow-listed: NOT_SUPPORTED.
		TOPO_CPU=Skylake-Server
		TOPO_EXPECT=NOT_SUPPORTED
		topo_two_root_ports
		TOPO_APPEND="vfio.enable_unsafe_noiommu_mode=1"
		;;
	mf-acs-iommu)
		# (e) ACS redirect with an IOMMU: provider and initiator are two
		# functions of one device below one root port, -cpu max (AMD
		# family 15, not Zen), intel-iommu. Expect NOT_SUPPORTED:
		# drivers/pci/p2pdma.c:calc_map_type_and_dist() finds the root
		# port as the common upstream bridge but counts its ACS redirect
		# (pci_bridge_has_acs_redir(): Linux enables RR|CR there once an
		# IOMMU asks for ACS, QEMU's root port then reads 0x1d), so the
		# route leaves the fabric; then cpu_supports_p2pdma() is false
		# (not Zen) and host_bridge_whitelist() does not list q35's
		# 8086:29c0, so the type is NOT_SUPPORTED and
		# pci_p2pdma_distance() -1: the exporter refuses the import with
		# -EXDEV (exporter/maptype.c:p2pbuf_exp_route()). Without the
		# IOMMU the same device would be BUS_ADDR (qemu-lab notes).
		# no_timer_check: with intel-iommu's interrupt remapping,
		# check_timer() (arch/x86/kernel/apic/io_apic.c) has no fallback
		# and panics "timer doesn't work through Interrupt-remapped
		# IO-APIC" when a loaded TCG host lets fewer than 5 ticks through
		# its delay; seen once with switch-passthrough at load 13.
		TOPO_CPU=max,la57=off
		TOPO_EXPECT=NOT_SUPPORTED
		TOPO_APPEND="no_timer_check"
		TOPO_DEVICES+=(
			-device intel-iommu
			-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=0x4
			-device ivshmem-plain,memdev=m0,bus=rp1,addr=0.0,multifunction=on
			-device "$EDU,bus=rp1,addr=0.1"
		)
		;;
	switch-passthrough)
		# (f) identity domain: as (a), plus intel-iommu with
		# iommu.passthrough=1. Expect BUS_ADDR, with data: QEMU 7.2's
		# x3130/xio3130 switch ports have no ACS capability, and the root
		# port above the switch, whose ACS redirect the IOMMU turns on, is
		# above the common upstream bridge, which
		# drivers/pci/p2pdma.c:calc_map_type_and_dist() never looks past:
		# BUS_ADDR, distance 4. drivers/dma-buf/dma-buf-mapping.c:
		# dma_buf_phys_vec_to_sgt() then hands out
		# pci_p2pdma_bus_addr_map() addresses (bus offset 0 on x86) with
		# no DMA API call, and the identity domain
		# (drivers/iommu/dma-iommu.c:iommu_setup_dma_ops() leaves
		# dev_dma_iommu() clear) lets the edu's DMA reach them untranslated.
		TOPO_CPU=max,la57=off
		TOPO_EXPECT=BUS_ADDR
		TOPO_DEVICES+=(
			-device intel-iommu
			-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,addr=0x4
			-device x3130-upstream,id=usp,bus=rp1
			-device xio3130-downstream,id=dsp1,bus=usp,chassis=2,slot=1
			-device xio3130-downstream,id=dsp2,bus=usp,chassis=3,slot=2
			-device ivshmem-plain,memdev=m0,bus=dsp1
			-device "$EDU,bus=dsp2"
		)
		TOPO_APPEND="iommu.passthrough=1 no_timer_check"	# see (e)
		;;
	rp-zen-passthrough)
		# (g) as (b) with intel-iommu in passthrough: HOST_BRIDGE_DIRECT
		# behind an IOMMU, the route (b) gives where vfio-pci can run
		# without CONFIG_VFIO_NOIOMMU, which Debian's kernels lack. Not a
		# make check topology (rp-zen proves the route): make bench on the
		# distribution kernel compares p2pbuf with vfio-pci here
		# (docs/bench.rst).
		TOPO_CPU=EPYC
		TOPO_EXPECT=HOST_BRIDGE_DIRECT
		TOPO_DEVICES+=(-device intel-iommu)
		topo_two_root_ports
		TOPO_APPEND="iommu.passthrough=1 no_timer_check"	# see (e)
		;;
	*)
		return 1
		;;
	esac
	# Second ivshmem on the root bus, left unbound for vfio-pci tests.
	TOPO_DEVICES+=(-device ivshmem-plain,memdev=m1,bus=pcie.0,addr=0x6)
}
