"""The shipped augmentation profiles keep every character of a plate in view.

A character pushed out of the crop while the label keeps it teaches the model to read letters
that are not there. The renderer's character positions, moved with each augmentation, show it.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from omegaconf import OmegaConf

from anpr.config.compose import compose_train
from anpr.data.augment import Augmenter
from anpr.data.synth import PlateSynthesizer

SIZE = (192, 48)  # the models' input, where these transforms act


@pytest.fixture(scope="module")
def plates() -> list[tuple[np.ndarray, np.ndarray]]:
    """60 rendered plates at model size with their character centres (pixels)."""
    synth = PlateSynthesizer(seed=11, two_line_fraction=0.5)
    samples = [synth.render(i) for i in range(60)]
    return [
        (cv2.resize(s.image, SIZE, interpolation=cv2.INTER_AREA), s.char_centres[:, :2] * np.float32(SIZE))
        for s in samples
        if s.char_centres is not None
    ]


def share_pushed_out(transforms, plates, repeats: int = 10) -> float:
    augmenter = Augmenter(transforms)
    augmenter.compose.set_random_seed(0)
    out = 0
    for _ in range(repeats):
        for image, points in plates:
            _, moved = augmenter.with_points(image, points)
            out += bool(((moved[:, 0] < 0) | (moved[:, 0] > SIZE[0])).any())
    return out / (repeats * len(plates))


@pytest.mark.slow
@pytest.mark.parametrize("profile", ["seed", "detector"])
def test_a_profile_keeps_the_characters_in_view(profile, plates) -> None:
    transforms = OmegaConf.to_container(compose_train([f"augmentation={profile}"]).augmentation.transforms)
    assert len(plates) > 40
    assert share_pushed_out(transforms, plates) < 0.02
    # Without fit_output the same Perspective zooms past the crop's edge on many plates.
    zooming = [dict(t, fit_output=False) if t["_target_"].endswith("Perspective") else t for t in transforms]
    assert share_pushed_out(zooming, plates) > 0.04
