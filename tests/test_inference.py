"""PlateReader: checkpoints and ONNX files read alike, metadata round-trips, loading is safe."""

from __future__ import annotations

import pickle
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from helpers import MODEL_FILES_CONTRACT, draw_plate, tiny_datamodule, tiny_model_files

from anpr.data.images import DeviceNormalize
from anpr.export.onnx_export import read_metadata
from anpr.inference import CheckpointError, PlateRead, PlateReader, UnsafeCheckpointError
from anpr.inference.sources import sample_plates

PREPROCESSING = MODEL_FILES_CONTRACT.preprocessing


@pytest.fixture(scope="module")
def readers() -> tuple[PlateReader, PlateReader]:
    checkpoint, onnx_path, _, _ = tiny_model_files()
    return PlateReader.from_path(checkpoint), PlateReader.from_path(onnx_path)


def test_checkpoint_and_onnx_read_the_same_strings(readers):
    ckpt_reader, onnx_reader = readers
    plates, _, _ = sample_plates(12, seed=5)
    gray = cv2.cvtColor(draw_plate("KL07AB1234", 50, 210), cv2.COLOR_BGR2GRAY)
    rgba = np.dstack([draw_plate("MH12DE1433", 30, 90), np.full((30, 90), 255, np.uint8)])
    inputs = [*plates, gray, rgba, draw_plate("DL4CAF1234", 120, 400)]
    a, b = ckpt_reader.read(inputs, batch_size=5), onnx_reader.read(inputs, batch_size=7)
    assert len(a) == len(inputs) and all(isinstance(r, PlateRead) for r in a)
    assert len({r.text for r in a}) > len(inputs) // 2, "reads should differ between plates"
    assert [r.text for r in a] == [r.text for r in b]
    assert np.allclose([r.confidence for r in a], [r.confidence for r in b], atol=1e-4)
    logits_a = ckpt_reader.logits(ckpt_reader.preprocess(inputs))
    logits_b = onnx_reader.logits(onnx_reader.preprocess(inputs))
    assert np.abs(logits_a - logits_b).max() < 1e-4


def test_confidence_is_the_probability_of_the_reading_and_format_flag(readers):
    reader = readers[0]
    logits = np.full((1, 6, 37), -10.0, np.float32)
    for t, cls in enumerate([11, 0, 12, 0, 0, 0]):  # K, blank, L
        logits[0, t, cls] = 5.0
    logits[0, 2, 12], logits[0, 2, 13] = 1.0, 0.5  # L only just wins at step 2
    read = reader.decode(logits)[0]
    probs = np.exp(logits[0, 2]) / np.exp(logits[0, 2]).sum()
    assert read.text == "KL" and read.valid_format is False  # no plate is likely: the free reading stays
    log_probs = torch.from_numpy(logits).log_softmax(-1).permute(1, 0, 2)
    ctc = torch.nn.functional.ctc_loss(
        log_probs, torch.tensor([[11, 12]]), torch.tensor([6]), torch.tensor([2]), reduction="sum"
    )
    assert read.confidence == pytest.approx(float(torch.exp(-ctc)), rel=1e-5)  # all of KL's CTC paths
    assert read.min_char_confidence == pytest.approx(float(probs[12]), rel=1e-5)  # the older measure
    assert reader.decode(_one_hot("KL07AB1234"))[0].valid_format is True


def _one_hot(text: str) -> np.ndarray:
    charset = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    logits = np.full((1, 2 * len(text), 37), -10.0, np.float32)
    for i, c in enumerate(text):
        logits[0, 2 * i, charset.index(c) + 1] = 10.0
        logits[0, 2 * i + 1, 0] = 10.0
    return logits


def test_arrays_are_bgr_by_default_with_an_rgb_option(readers):
    reader = readers[1]
    bgr = np.zeros((40, 160, 3), np.uint8)
    bgr[..., 0] = 255  # pure blue in OpenCV order
    rgb = bgr[..., ::-1].copy()
    assert np.array_equal(reader.preprocess([bgr]), reader.preprocess([rgb], rgb=True))
    assert not np.array_equal(reader.preprocess([bgr]), reader.preprocess([bgr], rgb=True))


def test_preprocessing_is_the_validation_preprocessing(readers):
    checkpoint, _, images_dir, labels_file = tiny_model_files()
    data = tiny_datamodule(images_dir, labels_file, MODEL_FILES_CONTRACT, val_fraction=0.25)
    data.setup()
    sample = data.val_set[0]
    validation_input = DeviceNormalize(MODEL_FILES_CONTRACT)(sample["image"][None])[0]
    path = images_dir / data.val_set.records[0].image_name
    for reader in readers:
        assert np.allclose(reader.preprocess([path])[0], validation_input.numpy(), atol=1e-5)
        assert reader.info.preprocessing == PREPROCESSING


def test_onnx_metadata_round_trips(readers):
    _, onnx_path, _, _ = tiny_model_files()
    meta = read_metadata(onnx_path)
    assert meta["anpr.charset"] == "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    ckpt_reader, onnx_reader = readers
    assert onnx_reader.info.charset == ckpt_reader.info.charset
    assert onnx_reader.info.preprocessing == ckpt_reader.info.preprocessing == PREPROCESSING
    assert onnx_reader.info.model == ckpt_reader.info.model
    pre = onnx_reader.preprocessor
    assert (pre.image_height, pre.image_width) == (32, 128)
    assert np.allclose(pre.mean / 255, PREPROCESSING["mean"]) and np.allclose(pre.std / 255, PREPROCESSING["std"])


def test_onnx_without_metadata_is_refused(tmp_path):
    import onnx

    _, onnx_path, _, _ = tiny_model_files()
    model = onnx.load(str(onnx_path))
    del model.metadata_props[:]
    bare = tmp_path / "bare.onnx"
    onnx.save(model, str(bare))
    with pytest.raises(CheckpointError, match="metadata"):
        PlateReader.from_path(bare)


class _Payload:
    """Unpickling this creates a file: proof that loading ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_checkpoint_with_pickled_code_is_refused(tmp_path):
    checkpoint, _, _, _ = tiny_model_files()
    marker = tmp_path / "code-ran"
    evil = torch.load(checkpoint, map_location="cpu", weights_only=True)
    evil["hyper_parameters"]["surprise"] = _Payload(marker)
    evil_path = tmp_path / "evil.ckpt"
    torch.save(evil, evil_path)
    with pytest.raises(UnsafeCheckpointError, match="refused to load: it names .getattr."):
        PlateReader.from_path(evil_path)
    assert not marker.exists()
    # The same file loaded the unsafe way would have run the payload: the test can fail.
    torch.load(evil_path, map_location="cpu", weights_only=False)
    assert marker.exists()


def test_bad_model_files_are_clear_errors(tmp_path):
    (tmp_path / "model.txt").write_text("hello")
    with pytest.raises(CheckpointError, match="unknown model file type"):
        PlateReader.from_path(tmp_path / "model.txt")
    (tmp_path / "junk.ckpt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a PyTorch checkpoint") as err:
        PlateReader.from_path(tmp_path / "junk.ckpt")
    assert not isinstance(err.value, UnsafeCheckpointError)
    checkpoint, _, _, _ = tiny_model_files()
    (tmp_path / "cut.ckpt").write_bytes(checkpoint.read_bytes()[:2000])
    with pytest.raises(CheckpointError, match="not a readable PyTorch checkpoint"):
        PlateReader.from_path(tmp_path / "cut.ckpt")
    torch.save({"state_dict": {"net.x": torch.zeros(1)}}, tmp_path / "other.ckpt")
    with pytest.raises(CheckpointError, match="charset"):
        PlateReader.from_path(tmp_path / "other.ckpt")
    with pytest.raises(CheckpointError, match="not found"):
        PlateReader.from_path(tmp_path / "missing.onnx")


def test_pickle_error_type_is_what_weights_only_raises(tmp_path):
    """weights_only=True signals refusal with pickle.UnpicklingError (what load_checkpoint catches)."""
    torch.save({"x": _Payload(tmp_path / "m")}, tmp_path / "p.pt")
    with pytest.raises(pickle.UnpicklingError):
        torch.load(tmp_path / "p.pt", weights_only=True)
