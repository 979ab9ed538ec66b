"""The plate reader that ships inside the package, trained on built-in synthetic plates only.

Wherever a model path is taken, the name ``pretrained`` means these files: readers
(``PlateReader.from_path("pretrained")``, ``anpr predict pretrained ...``) use the reader file
``reader.json`` (its three models, the view of each crop they read, the second look at doubtful
crops, and ``reader_small.json``, which reads crops under 25 px high with ``plate_reader_small``),
and what needs a network (``anpr export pretrained``, ``init_from=pretrained``, ``anpr benchmark
infer --checkpoint pretrained``) uses the weights-only checkpoint of the strongest single network,
``plate_reader_v2`` (the reader's ``plate_reader_field`` is that network trained on under harder
detector damage, ``plate_reader_field2`` that one trained on with the damage also made at each
crop's own size, and ``plate_reader_small`` that one trained on with every plate made small).
``pretrained-int8`` reads with the static int8 models (faster on CPUs with VNNI).
``pretrained-v1`` (and ``pretrained-v1-int8``) is the first shipped reader alone, one view, kept
for comparison. How they were made, and how well they read: docs/pretrained.md.
"""

from __future__ import annotations

from pathlib import Path

from anpr.errors import UserError

NAME = "pretrained"
INT8_NAME = "pretrained-int8"
V1_NAME = "pretrained-v1"  # the first shipped reader alone, one view: kept for comparison
V1_INT8_NAME = "pretrained-v1-int8"
FOLDER = Path(__file__).resolve().parent
FILES = {
    "reader": FOLDER / "reader.json",  # what `pretrained` reads with: its models, views and second look
    "reader_int8": FOLDER / "reader.int8.json",  # the same with the int8 models
    "checkpoint": FOLDER / "plate_reader_v2.ckpt",  # the strongest single network's weights and anpr block
    "field_onnx": FOLDER / "plate_reader_field.onnx",  # v2 trained on under harder detector damage, fp32
    "field_int8": FOLDER / "plate_reader_field.int8.onnx",  # static int8, from anpr export --int8
    "field_checkpoint": FOLDER / "plate_reader_field.ckpt",
    "field2_onnx": FOLDER / "plate_reader_field2.onnx",  # field trained on with damage at each crop's size
    "field2_int8": FOLDER / "plate_reader_field2.int8.onnx",
    "field2_checkpoint": FOLDER / "plate_reader_field2.ckpt",
    "reader_small": FOLDER / "reader_small.json",  # what reads crops under 25 px high (reader.json's small_crops)
    "reader_small_int8": FOLDER / "reader_small.int8.json",
    "small_onnx": FOLDER / "plate_reader_small.onnx",  # field2 trained on with every plate 12-24 px high
    "small_int8": FOLDER / "plate_reader_small.int8.onnx",
    "small_checkpoint": FOLDER / "plate_reader_small.ckpt",
    "onnx": FOLDER / "plate_reader.onnx",  # the first shipped reader (pretrained-v1), fp32
    "v1_checkpoint": FOLDER / "plate_reader.ckpt",
    "int8": FOLDER / "plate_reader.int8.onnx",
}
# name -> (file that reads, file of the network)
NAMES = {
    NAME: ("reader", "checkpoint"),
    INT8_NAME: ("reader_int8", "reader_int8"),
    V1_NAME: ("onnx", "v1_checkpoint"),
    V1_INT8_NAME: ("int8", "int8"),
}


class PretrainedMissingError(UserError):
    """The installed package lacks the pretrained files (a build that left package data out)."""


def resolve_model(path: str | Path, kind: str = "onnx") -> Path:
    """``path`` as given, or the shipped file a name stands for: ``kind="onnx"`` the file that
    reads (for ``pretrained`` its reader file, models and views), ``"checkpoint"`` the network's
    weights (``init_from``, export). The int8 names are their int8 files whatever ``kind`` asks."""
    if str(path) not in NAMES:
        return Path(path)
    reads, network = NAMES[str(path)]
    key = reads if kind == "onnx" else network
    file = FILES[key]
    if not file.is_file():
        raise PretrainedMissingError(
            f"{file}: the pretrained model's {key} file is not in this installation of anpr; "
            "reinstall the package (pip install anpr, or pip install . from the repository)"
        )
    return file
