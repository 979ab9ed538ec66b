"""Temperature calibration: fitted by the CTC likelihood, stored in the model file, used on reading."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from helpers import script_main, tiny_model_files

from anpr.decoding import PlateDecoder
from anpr.evaluate.reliability import accuracy_at_coverage, coverage_at_accuracy, expected_calibration_error
from anpr.export.calibration import fit_temperature, mean_nll, write_calibration
from anpr.inference import PlateReader


def test_fit_recovers_the_temperature_that_made_logits_overconfident():
    rng = np.random.default_rng(0)
    true_logits = rng.normal(0, 1.5, size=(4000, 1, 6))  # one frame, one character per reading
    probs = np.exp(true_logits[:, 0]) / np.exp(true_logits[:, 0]).sum(-1, keepdims=True)
    labels = [[int(rng.choice(np.arange(1, 6), p=p[1:] / p[1:].sum()))] for p in probs]
    # Blank-free targets: renormalise so the labels follow the non-blank classes exactly.
    true_logits[:, 0, 0] = -50.0
    fitted = fit_temperature(true_logits * 3.0, labels)
    assert fitted == pytest.approx(3.0, rel=0.1)
    assert mean_nll(true_logits * 3.0, labels, fitted) < mean_nll(true_logits * 3.0, labels, 1.0)


@pytest.mark.parametrize("suffix", [".ckpt", ".onnx"])
def test_calibrate_script_stores_the_temperature_and_readers_use_it(tmp_path, capsys, suffix):
    checkpoint, onnx_path, images_dir, _ = tiny_model_files()
    model = tmp_path / f"model{suffix}"
    shutil.copy(checkpoint if suffix == ".ckpt" else onnx_path, model)
    assert script_main("calibrate")([str(model), "--synth", "24", "--out", str(tmp_path / f"cal{suffix}")]) == 0
    assert "Temperature" in capsys.readouterr().out
    calibrated = PlateReader.from_path(tmp_path / f"cal{suffix}")
    temperature = calibrated.info.calibration["temperature"]
    assert temperature != 1.0 and calibrated.info.calibration["num_plates"] == 24
    plain = PlateReader.from_path(model)
    assert plain.info.temperature == 1.0  # --out left the original alone
    images = [str(images_dir / f"plate_{i:04d}.png") for i in range(6)]
    logits = plain.logits(plain.preprocess(images))
    expected = PlateDecoder(plain.info.charset, temperature=temperature)(logits)
    reads = calibrated.read(images)
    assert [r.text for r in reads] == [e.text for e in expected]
    np.testing.assert_allclose([r.confidence for r in reads], [e.confidence for e in expected], rtol=1e-4)


def test_export_carries_the_calibration_into_onnx(tmp_path):
    checkpoint, _, _, _ = tiny_model_files()
    calibrated = tmp_path / "cal.ckpt"
    write_calibration(checkpoint, {"temperature": 1.7, "fitted_on": "test"}, calibrated)
    assert script_main("export")([str(calibrated), "--out", str(tmp_path / "cal.onnx"), "--parity-images", "4"]) == 0
    assert PlateReader.from_path(tmp_path / "cal.onnx").info.temperature == pytest.approx(1.7)


def test_reliability_measures_on_a_hand_made_case():
    confidences = [0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]
    correct = [True, True, True, True, False, True, False, False, True, False]
    assert accuracy_at_coverage(confidences, correct, (0.4, 0.6, 1.0)) == {"0.4": 1.0, "0.6": 5 / 6, "1": 0.6}
    assert coverage_at_accuracy(confidences, correct, (0.99, 0.8)) == {"0.99": 0.4, "0.8": 0.6}
    # Bins of width 0.1 each hold one read: |correct - confidence| averaged.
    expected = np.mean([abs(float(c) - p) for c, p in zip(correct, confidences)])
    assert expected_calibration_error(confidences, correct) == pytest.approx(expected)
