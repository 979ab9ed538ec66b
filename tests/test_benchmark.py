"""benchmark.py infer: a smoke run gives a complete, condition-stating Markdown table."""

from __future__ import annotations

import torch

from anpr.benchmark import load_model_config, random_model
from test_inference import script_main, tiny_model_files


def test_model_configs_merge_their_defaults():
    base, two_row = load_model_config("crnn"), load_model_config("crnn_2row")
    assert two_row["pool_rows"] == 2 and base["pool_rows"] == 1
    assert two_row["hidden_size"] == base["hidden_size"]  # inherited from crnn.yaml
    assert two_row["stages"][-1]["stride"] == [2, 1]
    net, info = random_model("crnn_small")
    assert net.classifier.out_features == 37
    assert info.preprocessing["image_height"] == load_model_config("crnn_small")["image_height"]


def test_benchmark_smoke_run(tmp_path, capsys):
    threads = torch.get_num_threads()
    checkpoint, _, _, _ = tiny_model_files()
    out = tmp_path / "bench.md"
    try:
        code = script_main("benchmark")(["infer", "--model-config", "crnn_small", "--checkpoint", str(checkpoint),
                                         "--smoke", "--threads", "1", "--out", str(out)])
    finally:
        torch.set_num_threads(threads)
    assert code == 0
    table = out.read_text()
    assert table == capsys.readouterr().out.rstrip("\n") + "\n"
    assert "threads: 1" in table and "onnxruntime " in table and "torch " in table and "CPU:" in table
    rows = [line for line in table.splitlines() if line.startswith(("| tiny.ckpt", "| crnn_small"))]
    assert [row.split("|")[3].strip() for row in rows] == 2 * [
        "pytorch eager", "onnxruntime fp32", "onnxruntime int8 (qoperator)"]
    assert rows[0].split("|")[2].strip() == "x".join(str(load_model_config("crnn_small")[k])
                                                    for k in ("image_height", "image_width"))
    for row in rows:
        latency, throughput = (float(cell) for cell in row.split("|")[4:6])
        assert latency > 0 and throughput > 0
