"""The training guard: the DataModule runs the dataset checks at setup, stops or skips, caches."""

from __future__ import annotations

import logging
from pathlib import Path

import lightning as L
import pytest
from helpers import BROKEN_TIME_STEPS as TIME_STEPS
from helpers import (
    ROOT,
    TINY_CONTRACT,
    TINY_MODEL,
    make_broken_dataset,
    random_plate_texts,
    run_script,
    tiny_contract,
    tiny_datamodule,
    tiny_module,
    write_rec_dataset,
)

from anpr.data import DatasetError, PlateDataModule
from anpr.data.checks import scan, scan_images

WARNING_KINDS = ("bom", "crlf", "gray_image", "rgba_image", "16bit_image", "duplicate_line")


def datamodule(images_dir: Path, labels_file: Path, tmp_path: Path, time_steps: int = 0, **kwargs) -> PlateDataModule:
    """TINY_NET's data module; labels are checked against ``time_steps`` (0: not checked for length)."""
    kwargs.setdefault("check_cache_dir", str(tmp_path / "cache"))
    return tiny_datamodule(images_dir, labels_file, tiny_contract(time_steps=time_steps), batch_size=4, **kwargs)


def test_default_policy_stops_naming_every_bad_line(tmp_path: Path) -> None:
    images_dir, labels_file, expected = make_broken_dataset(tmp_path / "broken")
    dm = datamodule(images_dir, labels_file, tmp_path, time_steps=TIME_STEPS, report_dir=str(tmp_path / "run"))
    with pytest.raises(DatasetError) as err:
        dm.setup("fit")
    message = str(err.value)
    for line, kind in expected:
        if kind not in WARNING_KINDS:
            assert f"labels.txt:{line}: [{kind}]" in message
    assert "gray_image" not in message and "on_bad_sample=skip" in message and "anpr check --images-dir" in message
    assert (tmp_path / "run" / "bad_samples.tsv").is_file()


def test_error_list_is_capped(tmp_path: Path) -> None:
    images_dir, labels_file = write_rec_dataset(tmp_path / "rec", random_plate_texts(30))
    for i in range(25):
        (images_dir / f"plate_{i:04d}.png").unlink()
    with pytest.raises(DatasetError, match=r"25 problem\(s\)(.|\n)*\.\.\. and 5 more"):
        datamodule(images_dir, labels_file, tmp_path).setup("fit")


def test_skip_trains_on_the_good_samples_and_lists_the_others(tmp_path: Path, caplog) -> None:
    images_dir, labels_file, expected = make_broken_dataset(tmp_path / "broken")
    bad_lines = {line for line, kind in expected if kind not in WARNING_KINDS}
    records = 21  # lines 1-22 except line 4 (no tab); lines 23, 24 are not UTF-8 / have no name
    bad_records = len(bad_lines - {4, 23, 24})
    run_dir = tmp_path / "run"
    labels_as_typed = f"{labels_file.parent}/./{labels_file.name}"  # not how pathlib spells it
    dm = datamodule(
        images_dir, labels_as_typed, tmp_path, time_steps=TIME_STEPS, on_bad_sample="skip", report_dir=str(run_dir)
    )
    with caplog.at_level(logging.INFO, logger="anpr.data.datamodule"):
        dm.setup("fit")
    assert len(dm.train_set) + len(dm.val_set) == records - bad_records
    used = {r.line_number for r in dm.train_set.records + dm.val_set.records}
    assert not used & bad_lines
    assert f"Skipping {bad_records} of {records} sample(s)" in caplog.text
    rows = (run_dir / "bad_samples.tsv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "where\timage\tkind\treason"
    listed = {(int(row.split("\t")[0].rsplit(":", 1)[1]), row.split("\t")[2]) for row in rows[1:]}
    assert listed == {(line, kind) for line, kind in expected if kind not in WARNING_KINDS}
    batch = next(iter(dm.train_dataloader()))
    assert batch["images"].shape[1:] == (3, 32, 128)
    # the labels are used as written: nothing normalised behind the user's back
    assert all(r.text == r.text.strip() and r.text.isalnum() and r.text.isupper() for r in dm.train_set.records)


def test_second_validation_uses_the_cache(tmp_path: Path, monkeypatch) -> None:
    images_dir, labels_file = write_rec_dataset(tmp_path / "rec", random_plate_texts(20))
    datamodule(images_dir, labels_file, tmp_path).setup("fit")

    def no_scan(*args, **kwargs):
        raise AssertionError("images scanned again although nothing changed")

    monkeypatch.setattr(scan, "scan_images", no_scan)
    dm = datamodule(images_dir, labels_file, tmp_path)
    dm.setup("fit")
    assert dm.check_reports[str(labels_file)].cached == 20

    real_scan, scanned = scan_images, []

    def counting_scan(paths, *args, **kwargs):
        scanned.extend(Path(p).name for p in paths)
        return real_scan(paths, *args, **kwargs)

    monkeypatch.setattr(scan, "scan_images", counting_scan)
    (images_dir / "plate_0003.png").write_bytes(b"")  # changed since the cached check
    with pytest.raises(DatasetError, match=r"labels\.txt:4: \[empty_image\]"):
        datamodule(images_dir, labels_file, tmp_path).setup("fit")
    assert scanned == ["plate_0003.png"]  # only the changed image is checked again


def test_trainer_run_skips_with_the_contracts_time_steps(tmp_path: Path) -> None:
    """The guard measures labels against the contract's CTC time steps, the same contract the
    model is built with, and writes the skipped samples to the run folder (default_root_dir)."""
    texts = random_plate_texts(12, seed=1)
    texts[2] = "KL07AB" + "1234" * 8  # 38 characters: more than the tiny model's 32 time steps
    images_dir, labels_file = write_rec_dataset(tmp_path / "rec", texts)
    dm = datamodule(images_dir, labels_file, tmp_path, time_steps=TINY_CONTRACT.time_steps, on_bad_sample="skip")
    module = tiny_module(dm.contract)
    assert module.net.time_steps == dm.contract.time_steps == 32
    run_dir = tmp_path / "run"
    trainer = L.Trainer(
        max_steps=2,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        limit_val_batches=1,
        default_root_dir=str(run_dir),
    )
    trainer.fit(module, datamodule=dm)
    assert trainer.global_step == 2
    rows = (run_dir / "bad_samples.tsv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 2 and rows[1].split("\t")[2] == "too_long" and "labels.txt:3" in rows[1]
    assert len(dm.train_set) + len(dm.val_set) == 11


@pytest.mark.slow
def test_train_script_skips_bad_samples_into_the_run_folder(tmp_path: Path) -> None:
    images_dir, labels_file = write_rec_dataset(tmp_path / "rec", random_plate_texts(16, seed=2))
    (images_dir / "plate_0004.png").write_bytes(b"")
    run_dir = tmp_path / "run"
    args = [
        str(ROOT / "scripts" / "train.py"),
        "data=rec",
        f"data.images_dir={images_dir}",
        f"data.labels_file={labels_file}",
        "hardware=cpu",
        "data.num_workers=0",
        "trainer.max_steps=2",
        "trainer.limit_val_batches=1",
        "trainer.num_sanity_val_steps=0",
        "callbacks.progress_bar=null",
        f"hydra.run.dir={run_dir}",
        *TINY_MODEL,
    ]
    failed = run_script(args, cwd=tmp_path, timeout=300)
    assert failed.returncode == 2 and "labels.txt:5: [empty_image]" in failed.stderr
    assert "Traceback" not in failed.stderr  # the refusal alone, not buried under a stack trace
    missing = run_script([*args, f"data.labels_file={tmp_path / 'nope.txt'}"], cwd=tmp_path, timeout=300)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert any(
        line.startswith(f"error: labels file not found: {tmp_path / 'nope.txt'}")
        for line in missing.stderr.splitlines()
    )
    done = run_script([*args, "data.on_bad_sample=skip"], cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Skipping 1 of 16 sample(s)" in done.stdout + done.stderr
    rows = (run_dir / "bad_samples.tsv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 2 and "labels.txt:5" in rows[1] and "empty_image" in rows[1]
    assert list((tmp_path / "data" / "checks").glob("images-*.json"))  # cached under paths.data_dir
