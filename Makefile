# SPDX-License-Identifier: GPL-2.0
#
# p2pbuf: a PCI peer-to-peer dma-buf exporter and importer.
#
#   make                 build both modules against KDIR
#   make check           build the lab kernel (cached) and run every test in QEMU
#   make lab-shell       boot the lab and give an interactive shell in the guest
#   make lint            checkpatch, kernel-doc, uapi header tests, sparse, coccicheck
#   make selftests       build the test programs (needs KSRC for lib.mk)
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

.PHONY: all modules clean selftests check lint lab-shell lab-selftest demo

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(PWD) $(mo_arg) modules

selftests:
	$(MAKE) -C selftests KSRC=$(KSRC) $(if $(OUTPUT),OUTPUT=$(OUTPUT))

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) $(mo_arg) clean
	rm -rf build results results-harness-selftest

check:
	lab/check.sh

demo:
	lab/demo.sh

lint:
	lab/lint.sh

lab-shell:
	lab/shell.sh

# Harness self-test: proves that a module which WARNs fails the run.
lab-selftest:
	lab/harness-selftest.sh
