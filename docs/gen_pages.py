"""Run by mkdocs-gen-files at build time: the command pages, the package layout and SUMMARY.md.

The command list is `COMMANDS` in anpr/cli/main.py as it is when the site is built (docs/generated.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import mkdocs_gen_files
from mkdocs.structure.files import InclusionLevel

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS))

import generated  # noqa: E402  (docs/generated.py, found through the line above)

pages = {f"{generated.COMMANDS_DIR}/index.md": generated.index_page(), "layout.md": generated.layout_page()}
pages |= {f"{generated.COMMANDS_DIR}/{name}.md": generated.command_page(name) for name in generated.commands()}
pages["SUMMARY.md"] = generated.summary(DOCS)
for path, text in pages.items():
    with mkdocs_gen_files.open(path, "w") as page:
        page.write(text)

# literate-nav reads SUMMARY.md; it is no page of its own
mkdocs_gen_files.FilesEditor.current().files.get_file_from_path("SUMMARY.md").inclusion = InclusionLevel.EXCLUDED
