# SPDX-License-Identifier: GPL-2.0
#
# The floor: the kernel API the modules are built on, checked in the
# kernel's headers before anything is compiled, so that an older kernel
# stops the build with one message naming what it lacks instead of a page
# of compiler errors. Included by Makefile (make, make modules, DKMS: KDIR's
# headers, before kbuild runs) and by Kbuild (make -C KDIR M=...: kbuild's
# $(srctree)).
#
# The newest of them, dma_buf_attach_revocable() and
# dma_buf_invalidate_mappings(), came with the dma-buf revoke series in
# Linux 7.1, hence the minimum. Tested: Debian's 7.2.13 (the lab kernel,
# every test) passes; Debian's 7.3.4 source passes this check (not built);
# Debian 13's 6.12 fails it with the message (lab/floor-check.sh).

P2PBUF_MIN_LINUX := 7.1

# HEADER:FUNCTION, each FUNCTION declared in HEADER of the source tree.
P2PBUF_KERNEL_API := \
	include/linux/pci-p2pdma.h:pcim_p2pdma_provider \
	include/linux/dma-buf-mapping.h:dma_buf_phys_vec_to_sgt \
	include/linux/dma-buf.h:dma_buf_attach_revocable \
	include/linux/dma-buf.h:dma_buf_invalidate_mappings

p2pbuf_comma := ,
p2pbuf_space := $() $()

# $(call p2pbuf_api_missing,SRCTREE): "f1() f2()" for the functions that
# SRCTREE's headers do not declare.
p2pbuf_api_missing = $(strip $(foreach a,$(P2PBUF_KERNEL_API),$(if \
	$(shell grep -qsw '$(word 2,$(subst :, ,$(a)))' '$(1)/$(word 1,$(subst :, ,$(a)))' && echo y),,$(word 2,$(subst :, ,$(a)))())))

# $(call p2pbuf_floor,SRCTREE,KERNEL): stop with one message if SRCTREE
# (the headers of KERNEL) lacks any of the API; nothing if it has it all.
p2pbuf_floor = $(call p2pbuf_floor_msg,$(call p2pbuf_api_missing,$(1)),$(1),$(2))
p2pbuf_floor_msg = $(if $(1),$(error p2pbuf needs Linux $(P2PBUF_MIN_LINUX) or later \
	(tested with 7.2): $(3) lacks $(subst $(p2pbuf_space),$(p2pbuf_comma)$(p2pbuf_space),$(1)) \
	(headers in $(2)/include/linux)))
