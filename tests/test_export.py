"""ONNX export: graph interface, metadata, parity report, and the int8 decision."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from helpers import script_main, tiny_model_files

from anpr.export.onnx_export import read_metadata
from anpr.export.quantize import (
    META_QUANTIZATION,
    Measurement,
    build_int8,
    choose_int8,
    plate_batch,
    quantize_static_int8,
)
from anpr.inference import PlateReader, load_checkpoint


def test_export_script_writes_a_self_describing_onnx_and_checks_parity(tmp_path, capsys):
    checkpoint, _, _, _ = tiny_model_files()
    out = tmp_path / "model.onnx"
    assert script_main("export")([str(checkpoint), "--out", str(out), "--parity-images", "10"]) == 0
    stdout = capsys.readouterr().out
    assert "Parity check on 10 synthetic plates" in stdout
    assert "decoded strings identical: 10/10" in stdout
    assert "max |logit difference|" in stdout

    model = onnx.load(str(out))
    assert max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) >= 17
    (inp,), (outp,) = model.graph.input, model.graph.output
    assert (inp.name, outp.name) == ("images", "logits")
    batch_dim = inp.type.tensor_type.shape.dim[0]
    assert batch_dim.dim_param and not batch_dim.dim_value  # dynamic batch axis
    assert [d.dim_value for d in inp.type.tensor_type.shape.dim[1:]] == [3, 32, 128]
    meta = read_metadata(out)
    pre = json.loads(meta["anpr.preprocessing"])
    assert pre == {"image_height": 32, "image_width": 128, "mean": [0.5, 0.45, 0.4], "std": [0.25, 0.2, 0.22]}
    assert meta["anpr.charset"] == "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    # any batch size runs
    reader = PlateReader.from_path(out)
    for n in (1, 3, 9):
        assert reader.logits(np.zeros((n, 3, 32, 128), np.float32)).shape[0] == n


def test_static_int8_file_keeps_metadata_and_reads(tmp_path):
    _, onnx_path, _, _ = tiny_model_files()
    reader = PlateReader.from_path(onnx_path)
    calibration, _, _ = plate_batch(reader.info, 8, seed=1)
    out = quantize_static_int8(onnx_path, tmp_path / "int8.onnx", calibration, "qoperator")
    ops = {n.op_type for n in onnx.load(str(out)).graph.node}
    assert "QLinearConv" in ops
    meta = read_metadata(out)
    settings = json.loads(meta[META_QUANTIZATION])
    assert settings["format"] == "qoperator" and settings["float_nodes"]
    graph = onnx.load(str(out)).graph
    last = next(n for n in graph.node if "logits" in n.output)
    assert last.op_type == "Add" and last.name in settings["float_nodes"]  # logits computed in float
    int8_reader = PlateReader.from_path(out)
    assert int8_reader.info == reader.info
    plates, _, _ = plate_batch(reader.info, 6, seed=2)
    assert len(int8_reader.decode(int8_reader.logits(plates))) == 6


def _m(name, latency, throughput, acc=None, agreement=None):
    return Measurement(name, "", 1.0, latency, throughput, agreement, acc)


def test_choose_int8_needs_speed_at_both_batch_sizes_and_kept_accuracy():
    fp32 = _m("fp32", 10.0, 100.0, acc=0.90)
    fast = _m("fast", 5.0, 300.0, acc=0.90)
    faster_but_worse = _m("worse", 2.0, 900.0, acc=0.80)
    slow_at_one = _m("slow1", 12.0, 300.0, acc=0.90)
    slow_at_many = _m("slow64", 5.0, 90.0, acc=0.90)
    chosen, notes = choose_int8(fp32, [slow_at_one, faster_but_worse, fast, slow_at_many])
    assert chosen is fast
    assert "not faster at batch 1" in notes[0] and "accuracy drops" in notes[1]
    assert "acceptable" in notes[2] and "throughput batch" in notes[3]
    assert choose_int8(fp32, [slow_at_one, slow_at_many])[0] is None
    # without truth, agreement with fp32 decides
    assert choose_int8(_m("fp32", 10, 100), [_m("q", 5, 300, agreement=0.5)])[0] is None
    assert choose_int8(_m("fp32", 10, 100), [_m("q", 5, 300, agreement=0.99)])[0] is not None
    # so it does when fp32 reads too few plates for an accuracy drop to show
    untrained = _m("fp32", 10, 100, acc=0.0)
    chosen, notes = choose_int8(untrained, [_m("q", 5, 300, acc=0.0, agreement=0.7)])
    assert chosen is None and "fp32 itself reads too few plates" in notes[0]
    assert choose_int8(fp32, [_m("q", 5, 300, acc=0.9, agreement=0.7)])[0] is not None


@pytest.mark.slow
def test_int8_file_is_only_written_when_chosen_or_forced(tmp_path, monkeypatch):
    import anpr.export.quantize as quantize

    _, onnx_path, _, _ = tiny_model_files()
    info = PlateReader.from_path(onnx_path).info
    monkeypatch.setattr(quantize, "choose_int8", lambda fp32, candidates, **kw: (None, ["refused"]))
    kwargs = dict(calibration_size=4, eval_size=4, formats=("qoperator",), repeats=2)
    report = build_int8(onnx_path, info, tmp_path / "refused.onnx", **kwargs)
    assert report.written is None and not (tmp_path / "refused.onnx").exists()
    assert "| fp32 |" in report.table() and "int8 static qoperator" in report.table()
    forced = build_int8(onnx_path, info, tmp_path / "forced.onnx", force=True, **kwargs)
    assert forced.written == tmp_path / "forced.onnx" and forced.written.is_file()


def test_export_refuses_old_opsets(tmp_path):
    checkpoint, _, _, _ = tiny_model_files()
    net, info = load_checkpoint(checkpoint)
    from anpr.export.onnx_export import export_onnx

    with pytest.raises(ValueError, match="opset"):
        export_onnx(net, info, tmp_path / "old.onnx", opset=13)
