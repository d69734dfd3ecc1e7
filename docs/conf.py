# SPDX-License-Identifier: GPL-2.0
"""Sphinx configuration of the p2pbuf documentation.

Built by "make htmldocs" (lab/docs.sh). The ".. kernel-doc::" directive is
the kernel's own extension, Documentation/sphinx/kerneldoc.py, taken from a
full kernel source tree named by the environment variable srctree (or KSRC).
In Linux 7.x that extension no longer runs scripts/kernel-doc: it imports
the kernel-doc parser from $srctree/tools/lib/python/kdoc at load time, and
reads "srctree" from the environment when it is imported. Paths given to
the directive are relative to kerneldoc_srctree, the top of this
repository.
"""
import os
import sys

from sphinx.errors import ConfigError

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))

srctree = os.environ.get("srctree") or os.environ.get("KSRC")
if not srctree or not os.path.isfile(
        os.path.join(srctree, "Documentation", "sphinx", "kerneldoc.py")):
    raise ConfigError("set srctree (or KSRC) to a full Linux 7.x source tree: "
                      "its Documentation/sphinx/kerneldoc.py provides "
                      "the kernel-doc directive")
srctree = os.path.abspath(srctree)
os.environ["srctree"] = srctree
sys.path.insert(0, os.path.join(srctree, "Documentation", "sphinx"))

project = "p2pbuf"
author = "The p2pbuf authors"
copyright = "The p2pbuf authors, GPL-2.0"

extensions = ["kerneldoc"]
kerneldoc_srctree = TOP

# As the kernel's Documentation/conf.py: C is the default domain, literal
# blocks are not highlighted, and the kernel's attributes parse.
primary_domain = "c"
highlight_language = "none"
c_id_attributes = ["__user", "__iomem", "__aligned", "__counted_by",
                   "__packed"]

master_doc = "index"
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_theme_options = {"page_width": "1080px"}
html_show_sourcelink = False
