"""Run by mkdocs-gen-files at build time: the command pages and the navigation (SUMMARY.md).

The command list is `COMMANDS` in anpr/cli/main.py as it is when the site is built; a page listed
in NAV that does not exist (yet) is left out, and a page under docs/ that NAV does not name is
added under "More", so the navigation never points at a missing file nor hides a page.
"""

from __future__ import annotations

import sys
from pathlib import Path

import mkdocs_gen_files

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS))

import command_pages  # noqa: E402  (found through the line above)

# (title, page) in the order the site shows them; a title alone starts a section
NAV = [
    ("Home", "index.md"),
    ("Guides", None),
    ("Reading plates", "inference.md"),
    ("The shipped reader", "pretrained.md"),
    ("Serving over HTTP", "serve.md"),
    ("Training", "training.md"),
    ("Your own data", "data.md"),
    ("Checking a dataset", "data_checks.md"),
    ("Synthetic plates", "synthetic.md"),
    ("Sweeps and multi-GPU", "sweeps.md"),
    ("Reference", None),
    ("What the recipes reach", "results.md"),
    ("Detector conditions", "conditions.md"),
    ("Models", "models.md"),
    ("The CTC plateau", "plateau.md"),
    ("Training speed", "training_speed.md"),
    ("Metrics", "metrics.md"),
    ("Package layout", "layout.md"),
]
API = [("Python API", "api.md")]
GENERATED = {"layout.md"}  # written below, not files under docs/


def summary() -> str:
    named = {page for _, page in NAV + API if page}
    sections: list[tuple[str | None, list[str]]] = [(None, [])]
    for title, page in NAV:
        if page is None:
            sections.append((title, []))
        elif (DOCS / page).is_file() or page in GENERATED:
            sections[-1][1].append(f"[{title}]({page})")
    lines = []
    for title, items in sections:
        if title is None:
            lines += [f"* {item}" for item in items]
        elif items:  # a section whose pages are all missing is left out
            lines += [f"* {title}", *(f"    * {item}" for item in items)]
    lines.append(f"* [Commands]({command_pages.COMMANDS_DIR}/index.md)")
    lines += [f"    * [anpr {name}]({command_pages.COMMANDS_DIR}/{name}.md)" for name in command_pages.commands()]
    lines += [f"* [{title}]({page})" for title, page in API]
    others = sorted(
        path.relative_to(DOCS).as_posix()
        for path in DOCS.rglob("*.md")
        if path.relative_to(DOCS).as_posix() not in named and not path.relative_to(DOCS).parts[0].startswith(".")
    )
    if others:
        lines.append("* More")
        lines += [f"    * [{Path(page).stem.replace('_', ' ').capitalize()}]({page})" for page in others]
    return "\n".join(lines) + "\n"


with mkdocs_gen_files.open(f"{command_pages.COMMANDS_DIR}/index.md", "w") as page:
    page.write(command_pages.index_page())
for name in command_pages.commands():
    with mkdocs_gen_files.open(f"{command_pages.COMMANDS_DIR}/{name}.md", "w") as page:
        page.write(command_pages.command_page(name))
with mkdocs_gen_files.open("layout.md", "w") as page:
    page.write(command_pages.layout_page())
with mkdocs_gen_files.open("SUMMARY.md", "w") as nav:
    nav.write(summary())
