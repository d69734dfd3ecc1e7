# SPDX-License-Identifier: GPL-2.0
# Named lab topologies. Sourced by vm.sh. Each sets, for topology $1:
#   TOPO_CPU      QEMU -cpu model
#   TOPO_DEVICES  QEMU -device arguments (array)
#   TOPO_APPEND   extra kernel command line
#   TOPO_EXPECT   map type p2pdma is expected to choose (see docs/lab.rst)
#   TOPO_LEAK_CYCLES  cycles of selftests/leak_test (P2PBUF_LEAK_CYCLES
#                 overrides): the full 10000 in switch (about 20 ms a cycle
#                 under TCG+KASAN), 1000 in the others to keep make check's
#                 time (docs/faults.rst has the measured times)
#   TOPO_RACE_ITERS  lock-step iterations of each selftests/race_test race
#                 (P2PBUF_RACE_ITERS overrides): 2000 in switch, 500 in the
#                 others (docs/stress.rst has the measured times)
# Memory backends m0 (provider BAR), m1 (second ivshmem, for vfio-pci) are
# created by vm.sh. Facts behind each expectation: shared/notes/qemu-lab.md.

P2PBUF_TOPOLOGIES="switch rp-zen rp-zen-iommu intel"

EDU="edu,dma_mask=0xffffffffffffffff"

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
	case "$1" in
	switch)
		# (a) provider and initiator behind one PCIe switch: BUS_ADDR.
		# 5-level paging off: with it, KASAN reports wild accesses in early boot.
		TOPO_CPU=max,la57=off
		TOPO_EXPECT=BUS_ADDR
		TOPO_LEAK_CYCLES=10000
		TOPO_RACE_ITERS=2000
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
		;;
	intel)
		# (d) Intel CPU, q35 host bridge 8086:29c0 not allow-listed: NOT_SUPPORTED.
		TOPO_CPU=Skylake-Server
		TOPO_EXPECT=NOT_SUPPORTED
		topo_two_root_ports
		TOPO_APPEND="vfio.enable_unsafe_noiommu_mode=1"
		;;
	*)
		return 1
		;;
	esac
	# Second ivshmem on the root bus, left unbound for vfio-pci tests.
	TOPO_DEVICES+=(-device ivshmem-plain,memdev=m1,bus=pcie.0,addr=0x6)
}
