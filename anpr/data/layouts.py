"""Plate layouts and the ``layout.tsv`` files that name them, one per image.

A layouts file has ``image_name<TAB>layout`` lines; further tab-separated fields are tags (such as
``separator:dot`` on synthetic plates) that evaluation also breaks accuracy down by.
"""

from __future__ import annotations

from pathlib import Path

from anpr.data.labels import DatasetError

# How the characters sit on the plate: one row; two rows (two-wheelers, autos); or the state code
# stacked over the district in small type beside the rest ('MP/09 CY 2208').
LAYOUTS = ("one-line", "two-line", "stacked-prefix")


def find_layouts_file(images_dir: str | Path, labels_file: str | Path) -> Path | None:
    """``layout.tsv`` beside the images folder or the labels file, if there is one."""
    for candidate in (Path(images_dir).parent / "layout.tsv", Path(labels_file).parent / "layout.tsv"):
        if candidate.is_file():
            return candidate
    return None


def read_layout_tags(path: str | Path) -> dict[str, list[str]]:
    """image name -> [layout, tag, ...]; a malformed line is an error naming it."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"layouts file not found: {path}")
    rows = {}
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        if "\t" not in line:
            raise DatasetError(f"{path}:{number}: expected 'image_name<TAB>layout', got {line!r}")
        name, *fields = line.split("\t")
        rows[name.strip()] = [f.strip() for f in fields if f.strip()]
    return rows


def read_layouts(path: str | Path) -> dict[str, str]:
    """image name -> layout (the first field after the name)."""
    return {name: fields[0] if fields else "" for name, fields in read_layout_tags(path).items()}
