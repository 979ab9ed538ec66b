"""The renderer's realism features: each appears in a few hundred plates and looks as it claims."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from anpr.data.layouts import LAYOUTS
from anpr.data.synth import PlateSynthesizer, is_valid_plate, sample_plate_text
from anpr.data.synth.fonts import available_fonts
from anpr.data.synth.layout import TextStyle, text_block
from anpr.data.synth.render import render_plate, two_line_styles
from anpr.grammar import plate_format, plate_groups


@pytest.fixture(scope="module")
def samples():
    synth = PlateSynthesizer(seed=11, two_line_fraction=0.3)
    return [synth.render(i) for i in range(300)]


@pytest.mark.slow
def test_every_layout_and_separator_appears_in_a_few_hundred_plates(samples):
    layouts = Counter(s.layout for s in samples)
    assert set(layouts) == set(LAYOUTS)
    assert layouts["stacked-prefix"] >= 5
    separators = Counter(tag for s in samples for tag in s.tags)
    assert {"separator:none", "separator:dash", "separator:dot"} <= set(separators)
    assert all(s.char_centres is not None for s in samples)


def test_a_stacked_prefix_puts_the_state_on_the_top_line_and_the_rest_on_the_bottom_line(samples):
    """The alignment guide reads last lines from one row, so the big text beside 'MP/09' must
    be on the same line as the district under the state."""
    stacked = [s for s in samples if s.layout == "stacked-prefix"]
    assert stacked
    for s in stacked:
        state = plate_groups(s.text)[0]
        lines = s.char_centres[:, 2]
        assert lines.tolist() == [0] * len(state) + [1] * (len(s.text) - len(state))
        x, y = s.char_centres[:, 0], s.char_centres[:, 1]
        district = slice(len(state), len(state) + len(plate_groups(s.text)[1]))
        assert y[: len(state)].mean() < y[district].mean(), "the state sits above the district"
        assert abs(x[: len(state)].mean() - x[district].mean()) < 0.08, "state and district share a column"
        assert (np.diff(x[district.stop :]) > 0).all() and x[district.stop] > x[: district.stop].max()


def test_one_digit_districts_are_drawn_and_pass_the_grammar():
    rng = np.random.default_rng(3)
    texts = [sample_plate_text(rng) for _ in range(4000)]
    gujarat = [t for t in texts if t.startswith("GJ") and plate_format(t) == "standard"]
    short = [t for t in gujarat if len(plate_groups(t)[1]) == 1]
    assert len(short) >= max(10, 0.05 * len(gujarat))
    assert all(is_valid_plate(t) for t in short)
    assert is_valid_plate("GJ1KE2245") and plate_groups("GJ1KE2245") == ["GJ", "1", "KE", "2245"]


def _line_heights(mask: np.ndarray, rows: list[tuple[int, int]]) -> list[int]:
    """Ink height of each line of a text block, measured on the mask between the line gaps."""
    heights = []
    bounds = [0] + [(rows[i][1] + rows[i + 1][0]) // 2 for i in range(len(rows) - 1)] + [mask.shape[0]]
    for top, bottom in zip(bounds, bounds[1:]):
        ink = np.flatnonzero(mask[top:bottom].max(axis=1) > 128)
        heights.append(int(ink[-1] - ink[0] + 1))
    return heights


@pytest.mark.parametrize("seed", range(6))
def test_two_line_text_has_the_line_proportions_the_renderer_claims(seed):
    """Capitals and digits fill the cap height, so each line's ink is as tall as its style's cap:
    the top line of a two-wheeler plate smaller than the bottom one, or both the same."""
    rng = np.random.default_rng(seed)
    font = next(f for f in available_fonts() if f.kind == "condensed")
    style = TextStyle(
        font=font, cap=40, x_scale=1.0, char_gap=0.1, group_gap=0.4, separator="", monospace=False, jitter=0.0, stroke=0
    )
    top, bottom = two_line_styles(rng, style)
    mask, rows = text_block([["KA", "03"], ["AF", "2434"]], style, rng, line_gap=0.3, line_styles=[top, bottom])
    heights = _line_heights(mask, rows)
    assert [b - a for a, b in rows] == [top.cap, bottom.cap]
    for measured, cap in zip(heights, (top.cap, bottom.cap)):
        assert abs(measured - cap) <= 0.12 * cap + 2, (heights, top.cap, bottom.cap)
    assert heights[0] <= heights[1] + 2
    gap = rows[1][0] - rows[0][1]
    assert abs(gap - round(0.3 * style.cap)) <= 1


def test_two_wheeler_top_lines_are_often_smaller_and_autos_often_nearly_square():
    rng = np.random.default_rng(0)
    ratios, aspects = [], []
    for _ in range(150):
        plate = render_plate(rng, "KA03AF2434", two_line=True)
        centres = plate.char_centres
        assert centres is not None and set(centres[:, 2].astype(int)) == {0, 1}
        if plate.scheme == "commercial":
            aspects.append(plate.image.shape[1] / plate.image.shape[0])
    style = TextStyle(
        font=available_fonts()[0],
        cap=40,
        x_scale=1.0,
        char_gap=0.1,
        group_gap=0.4,
        separator="",
        monospace=False,
        jitter=0.0,
        stroke=0,
    )
    for _ in range(200):
        top, bottom = two_line_styles(rng, style)
        ratios.append(top.cap / bottom.cap)
    ratios = np.array(ratios)
    assert 0.4 < (ratios < 1).mean() < 0.8 and ratios.min() >= 0.67
    assert aspects and min(aspects) < 1.65 and max(aspects) <= 2.35


def test_stickers_and_sheen_appear_and_are_tagged_for_evaluation(samples):
    furniture = Counter(tag for s in samples for tag in s.furniture)
    assert furniture["sticker"] >= 10 and furniture["sheen"] >= 5
    assert all(set(s.furniture) <= set(s.tags) for s in samples)


def test_a_sticker_sits_beside_the_characters_never_on_them():
    from anpr.data.synth.render import _Geometry, _sticker

    drawn = 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        img = np.full((60, 300, 3), 200, np.uint8)
        g = _Geometry(
            ph=60, pw=300, tx=90, ty=10, ind_style="none", ind_w=0, hsrp=False, dealer=False, dealer_band=False
        )
        text = (90, 10, 200, 50)  # characters from x 90 to 200: margins of 90 and 100 px
        if not _sticker(rng, img, g, text, cap=40):
            continue
        drawn += 1
        changed = np.flatnonzero((img != 200).any(axis=(0, 2)))
        assert changed.size > 0
        assert (changed < text[0]).all() or (changed >= text[2]).all(), "the sticker overlaps the characters"
    assert drawn == 40  # both margins are wide enough for one


def test_sheen_is_a_smooth_light_band():
    from anpr.data.synth.decor import sheen

    img = np.full((50, 200, 3), 100, np.uint8)
    sheen(img, np.random.default_rng(0))
    luma = img[..., 0].astype(int)
    assert luma.min() >= 100 and luma.max() >= 120  # lighter, never darker
    assert np.abs(np.diff(luma, axis=1)).max() <= 6  # no edges that could look like strokes


def test_sign_painted_heavy_strokes_are_drawn():
    from anpr.data.synth.render import sample_style

    rng = np.random.default_rng(0)
    strokes = Counter(sample_style(rng, two_line=False).stroke for _ in range(600))
    assert strokes[3] >= 10 and strokes[-1] >= 40
