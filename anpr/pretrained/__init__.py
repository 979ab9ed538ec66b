"""The plate reader that ships inside the package, trained on built-in synthetic plates only.

Wherever a model path is taken, the name ``pretrained`` means these files: readers
(``PlateReader.from_path("pretrained")``, ``anpr predict pretrained ...``) use the ONNX
file, and what needs the network (``anpr export pretrained``, ``init_from=pretrained``,
``anpr benchmark infer --checkpoint pretrained``) uses the weights-only checkpoint.
``pretrained-int8`` names its static int8 ONNX model (about 2x faster on CPUs with VNNI). How
they were made, and how well they read: docs/pretrained.md.
"""

from __future__ import annotations

from pathlib import Path

from anpr.errors import UserError

NAME = "pretrained"
INT8_NAME = "pretrained-int8"
FOLDER = Path(__file__).resolve().parent
FILES = {
    "onnx": FOLDER / "plate_reader.onnx",  # fp32, with the anpr metadata
    "checkpoint": FOLDER / "plate_reader.ckpt",  # network weights and the anpr block, no optimizer
    "int8": FOLDER / "plate_reader.int8.onnx",  # static int8, from anpr export --int8
}


class PretrainedMissingError(UserError):
    """The installed package lacks the pretrained files (a build that left package data out)."""


def resolve_model(path: str | Path, kind: str = "onnx") -> Path:
    """``path`` as given, or the shipped file of ``kind`` (``onnx`` | ``checkpoint``) for
    ``pretrained``; ``pretrained-int8`` is the int8 ONNX file whatever ``kind`` asks for."""
    if str(path) == INT8_NAME:
        kind = "int8"
    elif str(path) != NAME:
        return Path(path)
    file = FILES[kind]
    if not file.is_file():
        raise PretrainedMissingError(
            f"{file}: the pretrained model's {kind} file is not in this installation of anpr; "
            "reinstall the package (pip install anpr, or pip install . from the repository)"
        )
    return file
