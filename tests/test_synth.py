"""Tests for the synthetic plate generator: grammar, sampler, renderer, dataset writer, CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from anpr.data.layouts import LAYOUTS
from anpr.data.synth import (
    GENERATOR_VERSION,
    PlateSynthesizer,
    is_valid_plate,
    plate_format,
    render_contact_sheet,
    sample_plate_text,
    write_dataset,
)
from anpr.data.synth import writer as writer_module
from anpr.data.synth.schemes import SCHEME_NAMES
from anpr.grammar import plate_groups
from anpr.grammar.india import STATE_CODES

REPO = Path(__file__).resolve().parents[1]
STANDARD = re.compile(r"^([A-Z]{2})(\d{1,2})([A-Z]{0,3})(\d{1,4})$")


@pytest.fixture(scope="module")
def texts() -> list[str]:
    rng = np.random.default_rng(0)
    return [sample_plate_text(rng) for _ in range(6000)]


@pytest.fixture(scope="module")
def samples():
    synth = PlateSynthesizer(seed=7, two_line_fraction=0.3)
    return [synth.render(i) for i in range(240)]


def test_sampler_emits_only_grammatical_plain_strings(texts):
    bad = [t for t in texts if not is_valid_plate(t) or not re.fullmatch(r"[A-Z0-9]+", t)]
    assert bad == []


def test_sampler_covers_every_format_and_series_length(texts):
    formats = Counter(plate_format(t) for t in texts)
    assert set(formats) == {"standard", "delhi", "bh"}
    assert formats["standard"] > formats["delhi"] > formats["bh"] > 0.01 * len(texts)
    series_lengths = Counter(len(STANDARD.match(t)[3]) for t in texts if plate_format(t) == "standard")
    assert set(series_lengths) == {0, 1, 2, 3}
    assert series_lengths[2] == max(series_lengths.values())
    numbers = [STANDARD.match(t)[4] for t in texts if plate_format(t) == "standard"]
    assert 0.8 < sum(len(n) == 4 for n in numbers) / len(numbers) < 1.0  # mostly 4 digits, not all
    assert {t[:2] for t in texts if plate_format(t) == "standard"} == set(STATE_CODES)


def test_sampler_weights_big_states_above_small_ones(texts):
    states = Counter(t[:2] for t in texts if plate_format(t) == "standard")
    assert states["MH"] > 5 * states["SK"]
    assert states["KA"] > 3 * states["LD"]


def test_grammar_accepts_real_formats():
    cases = {
        "KL07AB1234": "standard",
        "MH12DE1433": "standard",
        "UP16Z5678": "standard",
        "KL706464": "standard",
        "MH46P977": "standard",
        "GJ1KE2245": "standard",
        "DL4CAF1234": "delhi",
        "DL3C1234": "delhi",
        "DL10CA5229": "delhi",
        "22BH1234AA": "bh",
        "25BH0042C": "bh",
    }
    for text, fmt in cases.items():
        assert is_valid_plate(text), text
        assert plate_format(text) == fmt, text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "KL07AB",
        "XX07AB1234",
        "KL07AB12345",
        "KL07ABCD1234",
        "KL123AB1234",
        "KL07IO1234",
        "kl07ab1234",
        "KL 07 AB 1234",
        "KL-07-AB-1234",
        "KL07AB0000",
        "22BH1234",
        "22BH123AA",
        "22BH1234ABC",
        "DL4CAFG1234",
        "1234",
        "KL07AB1234\n",
    ],
)
def test_grammar_rejects_malformed(text):
    assert not is_valid_plate(text)
    assert plate_format(text) == "invalid"


def test_grammar_rejects_non_strings():
    assert not is_valid_plate(None)
    assert plate_format(1234) == "invalid"


def test_plate_groups_split_at_printed_gaps():
    assert plate_groups("KL07AB1234") == ["KL", "07", "AB", "1234"]
    assert plate_groups("DL4CAF1234") == ["DL", "4C", "AF", "1234"]
    assert plate_groups("22BH1234AA") == ["22", "BH", "1234", "AA"]
    assert plate_groups("KL706464") == ["KL", "70", "6464"]
    with pytest.raises(ValueError):
        plate_groups("NOTAPLATE")


def test_render_is_deterministic_per_seed_and_index():
    a, b = PlateSynthesizer(seed=5), PlateSynthesizer(seed=5)
    forward = [a.render(i) for i in (0, 1, 2, 3)]
    backward = [b.render(i) for i in (3, 2, 1, 0)][::-1]
    for x, y in zip(forward, backward):
        assert x.text == y.text and x.layout == y.layout and x.scheme == y.scheme
        assert x.image.shape == y.image.shape and x.image.tobytes() == y.image.tobytes()


def test_different_seeds_give_different_samples():
    a, b = PlateSynthesizer(seed=1), PlateSynthesizer(seed=2)
    pairs = [(a.render(i), b.render(i)) for i in range(5)]
    assert sum(x.text != y.text for x, y in pairs) >= 4
    assert all(x.image.shape != y.image.shape or x.image.tobytes() != y.image.tobytes() for x, y in pairs)


@pytest.mark.slow
def test_every_scheme_and_layout_appears(samples):
    assert set(s.scheme for s in samples) == set(SCHEME_NAMES)
    assert Counter(s.layout for s in samples).keys() == set(LAYOUTS)
    two = sum(s.layout == "two-line" for s in samples) / len(samples)
    assert 0.2 < two < 0.4  # two_line_fraction=0.3


def test_samples_are_labelled_bgr_images_with_layout_aspects(samples):
    aspects = {layout: [] for layout in LAYOUTS}
    for s in samples:
        assert s.image.dtype == np.uint8 and s.image.ndim == 3 and s.image.shape[2] == 3
        assert s.image.shape[0] >= 12 and is_valid_plate(s.text) and s.fmt == plate_format(s.text)
        aspects[s.layout].append(s.image.shape[1] / s.image.shape[0])
    one, two = np.array(aspects["one-line"]), np.array(aspects["two-line"])
    assert one.min() > 1.6 and one.max() < 8.5 and 3.2 < np.median(one) < 5.0
    assert two.min() > 0.9 and two.max() < 3.3 and 1.5 < np.median(two) < 2.2


def test_images_are_in_bgr_order(samples):
    # Yellow commercial plates are red+green, little blue: in BGR the last channel beats the first.
    yellow = [s.image for s in samples if s.scheme == "commercial"]
    assert len(yellow) >= 10
    redder = [np.median(im[..., 2]) > np.median(im[..., 0]) for im in yellow]
    assert sum(redder) >= 0.8 * len(redder)


def test_two_line_fraction_bounds():
    assert {PlateSynthesizer(0, 0.0).render(i).layout for i in range(20)} == {"one-line"}
    assert {PlateSynthesizer(0, 1.0).render(i).layout for i in range(20)} == {"two-line"}
    with pytest.raises(ValueError):
        PlateSynthesizer(0, 1.5)


def _read_tsv(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text().splitlines()]


def test_write_dataset_writes_images_labels_layout_and_meta(tmp_path):
    out = write_dataset(tmp_path / "ds", 12, seed=3, progress=False)
    labels = _read_tsv(out / "labels.txt")
    assert len(labels) == 12 and all(len(row) == 2 for row in labels)
    synth = PlateSynthesizer(seed=3)
    for i, (name, text) in enumerate(labels):
        image = cv2.imread(str(out / "images" / name))
        assert image is not None and image.ndim == 3
        assert text == synth.render(i).text and is_valid_plate(text)
    rows = {name: fields for name, *fields in _read_tsv(out / "layout.tsv")}
    assert rows.keys() == {name for name, _ in labels}
    for i, (name, _) in enumerate(labels):
        sample = synth.render(i)
        separator = f"separator:{ {'': 'none', '-': 'dash', '.': 'dot'}[sample.separator] }"
        assert rows[name] == [sample.layout, separator, *sample.furniture]
    meta = json.loads((out / "meta.json").read_text())
    assert meta["n"] == 12 and meta["seed"] == 3 and meta["generator_version"] == GENERATOR_VERSION
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]  # no temp folders left


@pytest.mark.slow
def test_write_dataset_with_workers_matches_single_process(tmp_path):
    one = write_dataset(tmp_path / "a", 6, seed=4, workers=1, progress=False)
    two = write_dataset(tmp_path / "b", 6, seed=4, workers=2, progress=False)
    assert (one / "labels.txt").read_text() == (two / "labels.txt").read_text()


def test_interrupted_write_leaves_no_dataset(tmp_path, monkeypatch):
    real = writer_module.PlateSynthesizer.render

    def failing(self, index):
        if index == 5:
            raise KeyboardInterrupt
        return real(self, index)

    monkeypatch.setattr(writer_module.PlateSynthesizer, "render", failing)
    with pytest.raises(KeyboardInterrupt):
        write_dataset(tmp_path / "ds", 10, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_contact_sheet_is_a_grid_png(tmp_path, samples):
    path = render_contact_sheet(samples[:7], tmp_path / "sheet.png", n=7, cols=3)
    sheet = cv2.imread(str(path))
    assert sheet is not None and sheet.shape[1] == 3 * 260 and sheet.shape[0] == 3 * 110


@pytest.mark.slow
def test_cli_writes_dataset_and_preview(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [
        sys.executable,
        str(REPO / "scripts" / "synth.py"),
        "--out",
        str(tmp_path / "ds"),
        "--n",
        "8",
        "--seed",
        "2",
        "--preview",
        str(tmp_path / "sheet.png"),
        "--quiet",
    ]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "images/s" in result.stdout
    assert len(_read_tsv(tmp_path / "ds" / "labels.txt")) == 8
    assert len(list((tmp_path / "ds" / "images").glob("*.jpg"))) == 8
    assert cv2.imread(str(tmp_path / "sheet.png")) is not None


def test_fonts_come_from_installed_packages_only():
    import matplotlib

    from anpr.data.synth.fonts import available_fonts

    fonts = available_fonts()
    assert any(f.name.startswith("DejaVuSans") for f in fonts)
    roots = [Path(matplotlib.get_data_path()).resolve()] + [Path(p).resolve() for p in sys.path if "-packages" in p]
    for f in fonts:
        path = Path(f.path).resolve()
        assert path.is_file() and any(root in path.parents for root in roots), f.path


def _flat_style(**changes):
    from dataclasses import replace

    from anpr.data.synth.fonts import available_fonts
    from anpr.data.synth.layout import TextStyle

    font = next(f for f in available_fonts() if f.name == "DejaVuSans-Bold")
    base = TextStyle(
        font=font, cap=40, x_scale=1.0, char_gap=0.1, group_gap=0.4, separator="", monospace=False, jitter=0.0, stroke=0
    )
    return replace(base, **changes)


def test_long_flag_one_reaches_left_and_down_beyond_the_stem():
    from anpr.data.synth.fonts import long_flag_one

    style = _flat_style()
    short, long_ = (long_flag_one(style.font, 40, flag).mask for flag in (0.3, 0.5))
    assert long_.shape[1] > short.shape[1]  # a longer flag reaches further left
    pad = (long_.shape[0] - 40) // 2
    stem_cols = long_[pad + 35] > 128  # near the baseline only the stem has ink
    assert stem_cols[-3:].any() and not stem_cols[: long_.shape[1] // 2].any()
    flag_rows = np.flatnonzero(long_[:, 1] > 64)  # the leftmost column is the flag's end
    assert flag_rows.size and pad + 10 < flag_rows.mean() < pad + 30  # it ends well below the top


def test_style_switches_the_one_and_separator_spacing():
    from anpr.data.synth.layout import line_mask

    rng = np.random.default_rng(0)
    plain = line_mask(["MH", "12"], _flat_style(), rng)
    flagged = line_mask(["MH", "12"], _flat_style(one_flag=0.5), rng)
    assert plain.shape != flagged.shape or not np.array_equal(plain, flagged)  # the '1' is redrawn
    tight = line_mask(["MH", "12"], _flat_style(separator=".", separator_gap=0.3), rng)
    loose = line_mask(["MH", "12"], _flat_style(separator=".", separator_gap=1.6), rng)
    assert loose.shape[1] > tight.shape[1]
    thin = line_mask(["MH", "12"], _flat_style(separator=".", separator_bold=0), rng)
    heavy = line_mask(["MH", "12"], _flat_style(separator=".", separator_bold=2), rng)
    assert heavy.astype(int).sum() > thin.astype(int).sum()


def test_character_centres_follow_the_reading_order_lines_and_image(samples):
    with_centres = [s for s in samples if s.char_centres is not None]
    assert len(with_centres) == len(samples)
    for s in with_centres:
        centres = s.char_centres
        assert centres.shape == (len(s.text), 3)
        assert (centres[:, :2] > 0).all() and (centres[:, :2] < 1).all()
        lines = centres[:, 2].astype(int)
        assert (np.diff(lines) >= 0).all()  # the top line is read first
        assert set(lines) == ({0} if s.layout == "one-line" else {0, 1})
        for line in set(lines):
            assert (np.diff(centres[lines == line, 0]) > 0).all()  # left to right within a line
        if s.layout == "two-line":
            assert centres[lines == 0, 1].max() < centres[lines == 1, 1].min()


def test_write_dataset_writes_the_character_centres(tmp_path):
    from anpr.data.char_centres import read_centres

    out = write_dataset(tmp_path / "ds", 8, seed=5, progress=False)
    centres = read_centres(out / "chars.tsv")
    synth = PlateSynthesizer(seed=5)
    for i, (name, text) in enumerate(_read_tsv(out / "labels.txt")):
        expected = synth.render(i).char_centres
        if expected is None:
            assert name not in centres
        else:
            assert np.allclose(centres[name], expected, atol=1e-4) and len(centres[name]) == len(text)
