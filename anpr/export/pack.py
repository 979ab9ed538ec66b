"""Turn a training run's checkpoint into a model of the shipped reader: small files, no optimizer.

``<name>.ckpt`` keeps what reading and fine-tuning need (the network's ``net.*`` weights and the
``anpr`` block); ``<name>.onnx`` is its fp32 export, checked against the network; where it came
from goes under ``models.<name>`` in ``provenance.json``. Used by ``scripts/pack_pretrained.py``;
the int8 file comes from ``anpr export <name>.ckpt --int8`` afterwards, when it passes that
command's gate, and ``reader.json`` names the models and views that ``pretrained`` reads with.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from anpr.export.onnx_export import export_onnx, parity_check
from anpr.models.model_file import load_checkpoint
from anpr.pretrained import FOLDER

PROVENANCE = FOLDER / "provenance.json"


def pack(checkpoint: str | Path, provenance: Mapping[str, Any], name: str, folder: Path = FOLDER) -> list[Path]:
    """Write ``name``.ckpt (weights only), its ONNX export, and its entry in ``provenance.json``."""
    source = torch.load(checkpoint, map_location="cpu", weights_only=True)
    net_state = {k: v for k, v in source["state_dict"].items() if k.startswith("net.")}
    folder.mkdir(parents=True, exist_ok=True)
    ckpt = folder / f"{name}.ckpt"
    torch.save({"state_dict": net_state, "anpr": source["anpr"]}, ckpt)
    net, info = load_checkpoint(ckpt)
    onnx_file = export_onnx(net, info, folder / f"{name}.onnx")
    report = parity_check(net, info, onnx_file)
    if not report.ok:
        raise RuntimeError(f"the ONNX export does not match the network: {report.summary()}")
    record_file = folder / PROVENANCE.name
    record = json.loads(record_file.read_text()) if record_file.is_file() else {}
    files = {p.name: p.stat().st_size for p in (ckpt, onnx_file)}
    record.setdefault("models", {})[name] = {**provenance, "files": files}
    record_file.write_text(json.dumps(record, indent=2) + "\n")
    return [ckpt, onnx_file, record_file]
