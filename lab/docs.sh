#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make htmldocs: build docs/ as HTML with Sphinx, warnings as errors.
#
#   docs.sh [OUTPUT_DIR]      (default: build/htmldocs)
#
# Installs, idempotently, Debian's python3-sphinx (its default theme,
# alabaster, comes with it). The kernel-doc directive is the kernel's own
# Sphinx extension, so a full source tree is needed: KSRC if set, else
# Debian's linux-source-7.2 as the lab fetches it (lab/fetch-source.sh).
set -euo pipefail
# shellcheck source=lab/lib.sh
. "$(dirname "$0")/lib.sh"

out=${1:-${P2PBUF_BUILD:-$P2PBUF_TOP/build}/htmldocs}

# docs-deps: only what is missing.
if ! dpkg-query -W -f='${Status}' python3-sphinx 2>/dev/null | grep -q 'install ok installed'; then
	lab_log "installing: python3-sphinx"
	export DEBIAN_FRONTEND=noninteractive
	lab_root apt-get update -qq || lab_log "apt-get update failed; trying the install anyway"
	lab_root apt-get install -y -qq --no-install-recommends python3-sphinx
fi

if [ -n "${KSRC:-}" ]; then
	src=$(cd "$KSRC" && pwd)
else
	src=$("$P2PBUF_TOP/lab/fetch-source.sh")
fi
[ -f "$src/Documentation/sphinx/kerneldoc.py" ] ||
	lab_die "$src has no Documentation/sphinx/kerneldoc.py (KSRC must be a full source tree)"

lab_log "htmldocs: sphinx-build -W, kernel-doc from $src"
# -E: read every file again, so a warning is never hidden by a cached page.
srctree=$src sphinx-build -E -W --keep-going -q -b html -d "$out/.doctrees" \
	"$P2PBUF_TOP/docs" "$out"
lab_log "htmldocs: $out/index.html"
