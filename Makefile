# SPDX-License-Identifier: GPL-2.0
#
# p2pbuf: a PCI peer-to-peer dma-buf exporter and importer.
#
#   make                 build both modules against KDIR
#   make kernel-api      only check that KDIR has the kernel API the modules
#                        need (kernel-floor.mk; make and DKMS check it first)
#   make check           build the lab kernel (cached) and run every test in QEMU
#   make check-quick     the edit-and-test loop: one topology (switch), the core
#                        suites, splat detection on; no host suites, no igt
#   make distro-check    DKMS install into a Debian root (DISTRO_SUITE, default
#                        unstable) and a boot of its stock kernel in QEMU
#                        with exporter_test and pair_test (lab/distro-lane.sh)
#   make lab-shell       boot the lab and give an interactive shell in the guest
#   make lint            checkpatch, kernel-doc, uapi header tests, sparse, coccicheck
#   make selftests       build the test programs (needs KSRC for lib.mk)
#   make tools           build tools/p2pbuf, the command-line front end
#   make demo            boot the lab and show the whole story (lab/demo.sh)
#   make fuzz            a long fuzz_test run in one topology (lab/fuzz.sh)
#   make fix-proofs      revert each exporter fix of issue 13 in a copy of the
#                        repository and check that its test fails, one boot
#                        per topology (lab/fix-proofs/run.sh all; not in check)
#   make bench           boot the lab and benchmark p2pbuf against vfio-pci,
#                        udmabuf and the system dma-heap (lab/bench.sh)
#   make htmldocs        docs/ as HTML with Sphinx and kernel-doc (build/htmldocs)
#   make modules_install install the modules for KDIR's kernel (INSTALL_MOD_PATH)
#   make udev_install    install udev/60-p2pbuf.rules (P2PBUF_GROUP=<group>
#                        for group access instead of root only)
#   make install         modules_install, udev_install and the tool (PREFIX)
#   make dkms-add        copy the module sources to /usr/src and dkms add them
#   make clean
#
# KDIR is the kernel build tree (default: the running kernel's). KSRC is a
# full source tree, needed when KDIR is a headers-only package (for
# tools/testing/selftests/lib.mk and scripts/). MO puts module build output
# outside the source directory.

KDIR ?= /lib/modules/$(shell uname -r)/build
KSRC ?= $(KDIR)
MO ?=
PWD := $(shell pwd)

mo_arg = $(if $(MO),MO=$(MO))

include $(dir $(lastword $(MAKEFILE_LIST)))kernel-floor.mk

# The source tree behind KDIR, where the kernel's own headers are: KDIR
# itself (a tree built in place), its "source" link (an O= build tree),
# /lib/modules/<release>/source next to a .../build KDIR, or the tree its
# Makefile includes (O= trees; Debian's split linux-headers packages).
# Empty if none is found: then kbuild itself runs the check (Kbuild).
kdir := $(patsubst %/,%,$(KDIR))
kdir_include = $(shell sed -n 's,^include[[:space:]]*\(.*\)/Makefile$$,\1,p' '$(kdir)/Makefile' 2>/dev/null)
kdir_srctree = $(firstword $(foreach d,$(kdir) $(kdir)/source $(patsubst %/build,%/source,$(filter %/build,$(kdir))) \
	$(kdir_include) $(addprefix $(kdir)/,$(filter-out /%,$(kdir_include))),$(if $(wildcard $(d)/include/linux/dma-buf.h),$(d))))
kdir_release = $(or $(shell cat '$(kdir)/include/config/kernel.release' 2>/dev/null),the kernel)

PREFIX ?= /usr/local
UDEVDIR ?= /etc/udev/rules.d
P2PBUF_GROUP ?=
DKMS_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
DKMS_SRC ?= /usr/src/p2pbuf-$(DKMS_VERSION)

.PHONY: all modules kernel-api clean selftests check check-quick fix-proofs distro-check lint lab-shell lab-selftest demo fuzz bench \
	tools htmldocs tested-kernels modules_install udev_install install dkms-add

all: modules

# Before kbuild runs (and before any trouble with the kernel's compiler).
kernel-api:
	$(if $(kdir_srctree),$(call p2pbuf_floor,$(kdir_srctree),$(kdir_release) in KDIR=$(KDIR)))
	@:

modules: kernel-api
	$(MAKE) -C $(KDIR) M=$(PWD) $(mo_arg) modules

selftests:
	$(MAKE) -C selftests KSRC=$(KSRC) $(if $(OUTPUT),OUTPUT=$(OUTPUT))

tools:
	$(MAKE) -C tools

modules_install: kernel-api
	$(MAKE) -C $(KDIR) M=$(PWD) $(mo_arg) modules_install

udev_install:
ifeq ($(P2PBUF_GROUP),)
	install -D -m 0644 udev/60-p2pbuf.rules $(DESTDIR)$(UDEVDIR)/60-p2pbuf.rules
else
	mkdir -p $(DESTDIR)$(UDEVDIR)
	sed -e '/^SUBSYSTEM==/s/GROUP="root", MODE="0600"/GROUP="$(P2PBUF_GROUP)", MODE="0660"/' \
		udev/60-p2pbuf.rules > $(DESTDIR)$(UDEVDIR)/60-p2pbuf.rules
	chmod 0644 $(DESTDIR)$(UDEVDIR)/60-p2pbuf.rules
endif

install: modules_install udev_install
	$(MAKE) -C tools install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)

# Only what the module build needs, not build/ or results/.
dkms-add:
	mkdir -p $(DKMS_SRC)
	cp -r dkms.conf Makefile Kbuild kernel-floor.mk exporter importer uapi $(DKMS_SRC)/
	dkms add -m p2pbuf -v $(DKMS_VERSION)

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) $(mo_arg) clean
	$(if $(wildcard tools/Makefile),$(MAKE) -C tools clean)
	rm -rf build results results-harness-selftest results-igt-selftest

check:
	lab/check.sh

QUICK_SUITES ?= lab_test exporter_test importer_test pair_test

check-quick:
	P2PBUF_TOPOS="$${P2PBUF_TOPOS:-switch}" P2PBUF_SUITES="$${P2PBUF_SUITES:-$(QUICK_SUITES)}" \
		P2PBUF_LINT=0 P2PBUF_IGT=0 P2PBUF_DETECTORS=0 P2PBUF_DISTRO=0 lab/check.sh

fix-proofs:
	lab/fix-proofs/run.sh all

DISTRO_SUITE ?= unstable

distro-check:
	lab/distro-lane.sh $(DISTRO_SUITE)

demo:
	lab/demo.sh

fuzz:
	lab/fuzz.sh

bench:
	lab/bench.sh

# README.md's and docs/install.rst's tested-kernels tables from make
# check's results (RESULTS: one or more results directories).
RESULTS ?= results

tested-kernels:
	lab/tested-kernels.py $(RESULTS) --update README.md --update docs/install.rst

htmldocs:
	lab/docs.sh

lint:
	lab/lint.sh

lab-shell:
	lab/shell.sh

# Detector self-test: proves that each class of kernel report fails a run.
lab-selftest:
	lab/harness-selftest.sh
