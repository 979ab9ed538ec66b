"""benchmark.py infer and train: smoke runs give complete, condition-stating Markdown tables;
the in-memory cache of decoded crops gives the same tensors as the files."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from helpers import script_main, tiny_datamodule, tiny_model_files

from anpr.bench.infer import random_model
from anpr.bench.train import PIPELINES, TrainSettings
from anpr.bench.train_report import gpu_images_per_s
from anpr.cli.benchmark import SETTINGS, parse_args
from anpr.config.compose import model_config as load_model_config
from anpr.data.cache import CachedPlateDataset, decode_all


def test_model_configs_merge_their_defaults():
    base, two_row = load_model_config("crnn"), load_model_config("crnn_2row")
    assert two_row["pool_rows"] == 2 and base["pool_rows"] == 1
    assert two_row["hidden_size"] == base["hidden_size"]  # inherited from crnn.yaml
    assert two_row["stages"][-1]["stride"] == [2, 1]
    net, info = random_model("crnn_small")
    assert net.classifier.out_features == 37
    assert info.preprocessing["image_height"] == load_model_config("crnn_small")["image_height"]


@pytest.mark.slow
def test_benchmark_smoke_run(tmp_path, capsys):
    threads = torch.get_num_threads()
    checkpoint, _, _, _ = tiny_model_files()
    out = tmp_path / "bench.md"
    try:
        code = script_main("benchmark")(
            [
                "infer",
                "--model-config",
                "crnn_small",
                "--checkpoint",
                str(checkpoint),
                "--smoke",
                "--threads",
                "1",
                "--out",
                str(out),
            ]
        )
    finally:
        torch.set_num_threads(threads)
    assert code == 0
    table = out.read_text()
    assert table == capsys.readouterr().out.rstrip("\n") + "\n"
    assert "threads: 1" in table and "onnxruntime " in table and "torch " in table and "CPU:" in table
    rows = markdown_rows(table, "| model | input")
    assert [row[2] for row in rows] == 2 * ["pytorch eager", "onnxruntime fp32", "onnxruntime int8 (qoperator)"]
    assert rows[0][1] == "x".join(str(load_model_config("crnn_small")[k]) for k in ("image_height", "image_width"))
    for row in rows:
        latency, throughput = (float(cell) for cell in row[3:5])
        assert latency > 0 and throughput > 0
    decoding = markdown_rows(table, "| model | decoder")
    assert [(row[0].split(" ")[0], row[1]) for row in decoding] == [
        (model, decoder)
        for model in ("crnn_small", "tiny.ckpt")
        for decoder in ("greedy", "grammar", "grammar, 3 best")
    ]
    assert all(float(row[2]) > 0 for row in decoding)
    assert all(row[3] == "0.0%" for row in decoding if row[1] == "greedy")


def markdown_rows(table: str, header_start: str) -> list[list[str]]:
    """Cells of the Markdown table whose header line starts with ``header_start``."""
    lines = table.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def positive(cell: str) -> float:
    value = float(cell.split(" ")[0].rstrip("x,"))
    assert value > 0, cell
    return value


@pytest.mark.slow
def test_train_benchmark_smoke_run(tmp_path, capsys):
    threads = torch.get_num_threads()
    out = tmp_path / "train-bench.md"
    try:
        argv = "train --model-config crnn_small --smoke --threads 1 --gpu-workers 6 --out".split()
        code = script_main("benchmark")([*argv, str(out)])
    finally:
        torch.set_num_threads(threads)
    assert code == 0
    table = out.read_text()
    assert table == capsys.readouterr().out.rstrip("\n") + "\n"
    for stated in ("CPU:", "threads: 1", "bf16:", "torch ", "lightning ", "albumentations ", "batch 4"):
        assert stated in table
    config = load_model_config("crnn_small")
    size = f"{config['image_height']}x{config['image_width']}"

    models = markdown_rows(table, "| model | input | batch | channels_last |")
    assert [tuple(row[:6]) for row in models] == [
        ("crnn_small", size, "4", cl, bf16, "no") for bf16 in ("no", "yes") for cl in ("no", "yes")
    ]
    fp32 = positive(models[0][6])
    for row in models:  # images/s, and the ratio to fp32 NCHW
        assert positive(row[7]) == pytest.approx(positive(row[6]) / fp32, abs=0.01)

    (gpu,) = markdown_rows(table, "| model | input | params (M) |")
    assert gpu[:2] == ["crnn_small", size] and positive(gpu[2]) < 10
    estimate = positive(gpu[4])
    assert estimate == pytest.approx(gpu_images_per_s(positive(gpu[3]), 13.0), rel=0.01)
    assert positive(gpu[5]) == pytest.approx(3 * estimate, rel=0.01)

    balance = markdown_rows(table, "| model | pipeline |")
    assert [(row[0], row[1]) for row in balance] == [("crnn_small", p) for p in PIPELINES]
    assert "loader x6 images/s" in table  # --gpu-workers reached the report
    for row in balance:
        one, loader = positive(row[2]), positive(row[4])
        assert positive(row[3]) == pytest.approx(one / fp32, rel=0.02, abs=0.01)
        assert loader == pytest.approx(6 * one, rel=0.01, abs=1)
        assert positive(row[5]) == pytest.approx(loader / estimate, rel=0.02, abs=0.01)
        if abs(loader - 3 * estimate) > 0.01 * loader:  # the printed figures are rounded
            assert row[6] == ("yes" if loader >= 3 * estimate else "no")


def test_train_benchmark_options_reach_its_settings():
    fields = set(TrainSettings.__dataclass_fields__)
    assert set(SETTINGS["train"].split()) <= fields
    args = parse_args(["train", "--smoke", "--steps", "3", "--augmentation", "seed_on_device", "--compile"])
    overrides = {name: getattr(args, name) for name in SETTINGS["train"].split() if getattr(args, name) is not None}
    settings = TrainSettings.configured(args.smoke, args.threads, compile=args.compile).with_overrides(overrides)
    assert (settings.steps, settings.augmentation, settings.compile) == (3, "seed_on_device", True)
    assert settings.batch == TrainSettings.configured(smoke=True).batch < TrainSettings().batch


def test_gpu_estimate_is_flops_over_three_forward_passes():
    assert gpu_images_per_s(forward_gflops=1.0, tflops=3.0) == pytest.approx(1000.0)
    assert gpu_images_per_s(0.5, 13.0) == pytest.approx(13e12 / 1.5e9)


def test_in_memory_cache_gives_the_same_tensors(rec_dataset):
    images_dir, labels_file = rec_dataset
    files = tiny_datamodule(images_dir, labels_file, batch_size=4, val_fraction=0.25)
    cached = tiny_datamodule(images_dir, labels_file, batch_size=4, val_fraction=0.25, in_memory_cache=True)
    files.setup("fit")
    cached.setup("fit")
    assert isinstance(cached.train_set, CachedPlateDataset) and isinstance(cached.val_set, CachedPlateDataset)
    assert not isinstance(files.train_set, CachedPlateDataset)
    assert cached.train_set.images.shape == (len(files.train_set), 32, 128, 3)
    assert cached.train_set.images.dtype == np.uint8 and cached.train_set.nbytes == len(files.train_set) * 32 * 128 * 3
    for name in ("train_set", "val_set"):
        a, b = getattr(files, name), getattr(cached, name)
        assert len(a) == len(b) and a.records == b.records
        for index in range(len(a)):
            x, y = a[index], b[index]
            assert torch.equal(x["image"], y["image"]) and torch.equal(x["target"], y["target"])
            assert x["text"] == y["text"]


def test_augmentation_never_writes_into_the_cache(rec_dataset):
    images_dir, labels_file = rec_dataset
    data = tiny_datamodule(images_dir, labels_file, in_memory_cache=True)
    data.setup("fit")
    before = data.train_set.images.copy()

    def scribble(image: np.ndarray) -> np.ndarray:
        image[:] = 0  # in place, the worst an augmentation could do
        return image

    data.train_set.augment = scribble
    data.train_set[0]
    assert np.array_equal(data.train_set.images, before)
    assert np.array_equal(decode_all(data.train_set, threads=2), before)


def test_the_busy_benchmark_starts_its_competing_load_and_stops_it():
    """`anpr benchmark busy` brings its own CPU-bound programs and leaves none running."""
    import time
    from pathlib import Path

    from anpr.bench.busy import competing_load

    def cpu_seconds(pid: int) -> float:  # user + system time, from /proc/<pid>/stat
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    with competing_load(2, seconds=30) as loops:
        assert len(loops) == 2 and all(loop.poll() is None for loop in loops)
        before = [cpu_seconds(loop.pid) for loop in loops]
        time.sleep(0.6)
        assert all(cpu_seconds(loop.pid) - b > 0.15 for loop, b in zip(loops, before))  # really busy
    assert all(loop.returncode is not None for loop in loops)


def test_busy_benchmark_options_reach_its_settings():
    from anpr.cli.benchmark import SETTINGS, parse_args

    args = parse_args(["busy", "--competitors", "0", "1", "--steps", "50"])
    assert args.mode == "busy" and args.competitors == [0, 1] and args.steps == 50
    assert set(SETTINGS["busy"].split()) <= set(vars(args))
