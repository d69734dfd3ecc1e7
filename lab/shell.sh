#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make lab-shell: boot one topology (P2PBUF_TOPO, default "switch") with the
# modules loaded and the devices bound, and give an interactive shell on the
# serial console. Exit the shell (or Ctrl-a x) to power off.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

lab_prepare
export P2PBUF_BOOT_TIMEOUT=${P2PBUF_BOOT_TIMEOUT:-86400}
exec "$P2PBUF_TOP/lab/vm.sh" "${P2PBUF_TOPO:-switch}" shell "${P2PBUF_RESULTS:-$P2PBUF_TOP/results}/shell"
