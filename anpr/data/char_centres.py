"""Where each character of a synthetic plate is: the renderer's ``chars.tsv`` sidecar.

One line per image: the image name, a tab, then ``x,y,line`` for every character of its label in
reading order, space-separated; x and y are fractions of the image's width and height, line is
0 for the top line (a stacked 'MP/09' prefix: the state on line 0, the district and the rest
on line 1). An empty field means the plate has no positions (a dataset of real crops that never
had any). Training uses them to guide the alignment of the first steps
(``anpr.train.losses.alignment_loss``); nothing else needs them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from anpr.data.labels import DatasetError


def format_centres(name: str, centres: np.ndarray | None) -> str:
    """One ``chars.tsv`` line (with its newline)."""
    fields = "" if centres is None else " ".join(f"{x:.4f},{y:.4f},{int(line)}" for x, y, line in centres)
    return f"{name}\t{fields}\n"


def read_centres(path: str | Path) -> dict[str, np.ndarray]:
    """Image name -> (N, 3) float32 (x, y, line); images without positions are left out."""
    centres = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        name, _, fields = line.partition("\t")
        if not fields.strip():
            continue
        try:
            centres[name] = np.array([[float(v) for v in f.split(",")] for f in fields.split()], np.float32)
        except ValueError as err:
            raise DatasetError(
                f"{path}:{number}: cannot read character positions ({err}); "
                "delete the rendered dataset folder to render it again"
            ) from err
        if centres[name].shape[1] != 3:
            raise DatasetError(f"{path}:{number}: each position must be x,y,line")
    return centres
