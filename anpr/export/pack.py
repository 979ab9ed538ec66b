"""Turn a training run's checkpoint into the shipped reader: small files, no optimizer state.

``plate_reader.ckpt`` keeps what reading and fine-tuning need (the network's ``net.*`` weights and
the ``anpr`` block) plus where it came from; ``plate_reader.onnx`` is its fp32 export, checked
against the network. Used by ``scripts/pack_pretrained.py``; the int8 file comes from
``anpr export pretrained --int8`` afterwards, when it passes that command's gate.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from anpr.export.onnx_export import export_onnx, parity_check
from anpr.models.model_file import load_checkpoint
from anpr.pretrained import FILES, FOLDER

PROVENANCE = FOLDER / "provenance.json"


def pack(checkpoint: str | Path, provenance: Mapping[str, Any], folder: Path = FOLDER) -> list[Path]:
    """Write the weights-only checkpoint, its ONNX export and ``provenance.json`` to ``folder``."""
    source = torch.load(checkpoint, map_location="cpu", weights_only=True)
    net_state = {k: v for k, v in source["state_dict"].items() if k.startswith("net.")}
    folder.mkdir(parents=True, exist_ok=True)
    ckpt = folder / FILES["checkpoint"].name
    torch.save({"state_dict": net_state, "anpr": source["anpr"]}, ckpt)
    net, info = load_checkpoint(ckpt)
    onnx_file = export_onnx(net, info, folder / FILES["onnx"].name)
    report = parity_check(net, info, onnx_file)
    if not report.ok:
        raise RuntimeError(f"the ONNX export does not match the network: {report.summary()}")
    record = {**provenance, "files": {p.name: p.stat().st_size for p in (ckpt, onnx_file)}}
    (folder / PROVENANCE.name).write_text(json.dumps(record, indent=2) + "\n")
    return [ckpt, onnx_file, folder / PROVENANCE.name]
