"""The reader that ships with the package: found by name, self-describing, reads plates, fine-tunes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from helpers import ROOT, random_plate_texts, run_script, write_rec_dataset

from anpr.data.synth import PlateSynthesizer
from anpr.inference import PlateReader
from anpr.pretrained import FILES, resolve_model

HELD_OUT_SEED = 9091  # never a training seed


def test_the_name_pretrained_finds_the_shipped_files() -> None:
    assert resolve_model("pretrained") == FILES["reader"] and FILES["reader"].is_file()
    assert resolve_model("pretrained", "checkpoint") == FILES["checkpoint"]
    assert resolve_model("pretrained-int8") == resolve_model("pretrained-int8", "checkpoint") == FILES["reader_int8"]
    assert resolve_model("pretrained-v1") == FILES["onnx"]
    assert resolve_model("pretrained-v1", "checkpoint") == FILES["v1_checkpoint"]
    assert resolve_model("pretrained-v1-int8") == FILES["int8"]
    assert resolve_model("elsewhere/model.onnx") == Path("elsewhere/model.onnx")
    for path in FILES.values():
        assert path.stat().st_size < 4_000_000  # small enough to ship inside the package


@pytest.mark.parametrize(
    "onnx, checkpoint",
    [("onnx", "v1_checkpoint"), ("field_onnx", "field_checkpoint"), ("field2_onnx", "field2_checkpoint")],
)
def test_onnx_and_checkpoint_carry_the_same_metadata_and_read_alike(onnx: str, checkpoint: str) -> None:
    by_name = PlateReader.from_path(FILES[onnx], threads=1)
    from_checkpoint = PlateReader.from_path(FILES[checkpoint], threads=1)
    assert by_name.info.charset == from_checkpoint.info.charset == "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    assert by_name.info.preprocessing == from_checkpoint.info.preprocessing
    assert by_name.info.model == from_checkpoint.info.model
    synth = PlateSynthesizer(HELD_OUT_SEED)
    images = [synth.render(i).image for i in range(16)]
    assert np.allclose(
        by_name.logits(by_name.preprocess(images)),
        from_checkpoint.logits(from_checkpoint.preprocess(images)),
        atol=1e-3,
    )
    for weights in (FILES[checkpoint], FILES["checkpoint"]):  # weights only: no optimizer state shipped
        assert not any("optimizer" in key for key in torch.load(weights, weights_only=True))


@pytest.mark.slow
@pytest.mark.parametrize("int8", [False, True])
def test_reads_freshly_rendered_plates(int8: bool) -> None:
    synth = PlateSynthesizer(HELD_OUT_SEED, two_line_fraction=0.25)
    samples = [synth.render(i) for i in range(300)]
    reader = PlateReader.pretrained(int8=int8)
    assert reader.source == str(FILES["reader_int8" if int8 else "reader"])
    assert reader.backend.name == "ensemble" and reader.readings_per_plate > 1 and reader.second_look is not None
    reads = reader.read([s.image for s in samples])
    right = sum(r.text == s.text for r, s in zip(reads, samples))
    # The shipped reader reads 97.6% of 3,000 held-out renderer-v8 plates (int8 as many; the first
    # reader alone 90.3%: docs/pretrained.md), so 300 of them sit within a few points of that; a
    # reader that fell back to the first model alone, a broken export or preprocessing reads fewer.
    assert right >= 0.93 * len(samples), f"{right} of {len(samples)} read exactly"


@pytest.mark.parametrize("int8", [False, True])
def test_small_crops_go_to_the_small_plate_model_of_the_same_precision(int8: bool) -> None:
    reader = PlateReader.pretrained(threads=1, int8=int8)
    small = reader.small_crops
    assert small is not None and small.below_height == 25
    assert small.reader.source == str(FILES["reader_small_int8" if int8 else "reader_small"])
    spec = json.loads(Path(small.reader.source).read_text())
    assert spec["members"] == [FILES["small_int8" if int8 else "small_onnx"].name]
    # a 16 px crop is read by it alone in its four boxes, a 40 px one by the three models once
    synth = PlateSynthesizer(HELD_OUT_SEED)
    plate = synth.render(0).image
    tall = cv2.resize(plate, (plate.shape[1] * 40 // plate.shape[0], 40))
    low = cv2.resize(plate, (plate.shape[1] * 16 // plate.shape[0], 16), interpolation=cv2.INTER_AREA)
    assert reader.prepare(low).input.shape[0] == 4 and reader.prepare(tall).input.shape[0] == 1
    assert reader.read([low, tall])[0] == small.reader.read([low])[0]


@pytest.mark.slow
def test_init_from_pretrained_starts_a_fine_tuning_run(tmp_path: Path) -> None:
    images_dir, labels_file = write_rec_dataset(tmp_path / "rec", random_plate_texts(24))
    run_dir = tmp_path / "run"
    result = run_script(
        [
            str(ROOT / "scripts" / "train.py"),
            "data=rec",
            f"data.images_dir={images_dir}",
            f"data.labels_file={labels_file}",
            "hardware=cpu",
            "data.num_workers=0",
            "batch_size=8",
            "trainer.max_steps=2",
            "trainer.limit_val_batches=1",
            "trainer.num_sanity_val_steps=0",
            "callbacks.progress_bar=null",
            "callbacks.early_stopping=null",
            "init_from=pretrained",
            f"hydra.run.dir={run_dir}",
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Starting from the weights of {FILES['checkpoint']}" in result.stdout + result.stderr
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()


@pytest.mark.slow
def test_an_installed_wheel_carries_and_finds_the_model(tmp_path: Path) -> None:
    # Built from a copy: an in-tree build would leave build/ and *.egg-info in the repository.
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "outputs", "data", "build", "*.egg-info", "__pycache__", ".*_cache"
        ),
    )
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path / "dist"),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("anpr-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert {f"anpr/pretrained/{path.name}" for path in FILES.values()} <= set(names)
        archive.extractall(site)
    probe = (
        "from anpr.inference import PlateReader; import anpr; "
        "r = PlateReader.pretrained(); print(anpr.__file__); print(r.source)"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        timeout=300,
    )
    assert found.returncode == 0, found.stderr[-3000:]
    module_file, source = found.stdout.split()
    assert module_file.startswith(str(site)) and source.startswith(str(site))  # not the repository's copy
