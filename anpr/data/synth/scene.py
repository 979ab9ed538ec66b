"""Put a flat plate into a camera view: frame, surroundings, perspective and the crop."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from .decor import rounded_alpha
from .render import Plate

# Car body and bumper colours (BGR) seen around plates, neutral ones most often.
_BODY = np.array(
    [
        (235, 235, 235),
        (200, 200, 205),
        (150, 150, 155),
        (100, 100, 100),
        (60, 60, 60),
        (25, 25, 28),
        (200, 200, 205),
        (60, 60, 60),
        (25, 25, 28),
        (130, 130, 135),
        (200, 200, 205),
        (130, 130, 135),
        (60, 60, 60),
        (235, 235, 235),
        (50, 50, 150),
        (35, 35, 100),
        (120, 80, 45),
        (80, 55, 35),
        (80, 100, 120),
        (60, 90, 70),
    ],
    np.float32,
)


def background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Smoothly varying body paint with bumper edges and grime, as uint8 BGR.

    Drawn at a quarter of the size and upscaled: surroundings are out of focus anyway.
    """
    sh, sw = max(2, h // 4), max(2, w // 4)
    base = _BODY[int(rng.integers(len(_BODY)))] * rng.uniform(0.6, 1.15)
    luma = rng.normal(0, rng.uniform(8, 35), (3, 4, 1)).astype(np.float32)
    chroma = rng.normal(0, 4, (3, 4, 3)).astype(np.float32)
    img = cv2.resize(luma + chroma, (sw, sh), interpolation=cv2.INTER_CUBIC) + base
    for _ in range(int(rng.integers(0, 4))):  # bumper lines, grille slats, shadows
        y = int(rng.integers(0, sh))
        t = int(rng.integers(1, max(2, sh // 5)))
        img[y : y + t] *= rng.uniform(0.3, 1.4)
    if rng.random() < 0.3:  # another object edge: a darker half
        x = int(rng.integers(0, sw))
        img[:, :x] *= rng.uniform(0.3, 0.8)
    img = np.clip(img, 0, 255).astype(np.uint8)
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)


def add_frame(rng: np.random.Generator, plate: Plate) -> Plate:
    """Wrap the plate in a black or chrome holder frame (common on two-wheelers and cars)."""
    ph, pw = plate.alpha.shape
    f = max(2, int(rng.uniform(0.04, 0.12) * ph))
    colour = (20, 20, 20) if rng.random() < 0.7 else (170, 170, 175)
    img = np.empty((ph + 2 * f, pw + 2 * f, 3), np.uint8)
    img[:] = np.array(colour, np.uint8)
    a = plate.alpha.astype(np.float32) / 255
    img[f : f + ph, f : f + pw] = cv2.blendLinear(plate.image, img[f : f + ph, f : f + pw].copy(), a, 1 - a)
    alpha = rounded_alpha(ph + 2 * f, pw + 2 * f, int(f * 1.5))
    x0, y0, x1, y1 = plate.text_box
    centres = None if plate.char_centres is None else plate.char_centres + np.float32([f, f, 0])
    return replace(plate, image=img, alpha=alpha, text_box=(x0 + f, y0 + f, x1 + f, y1 + f), char_centres=centres)


def _homography(rng: np.random.Generator, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """A small random view change of the plate rectangle; returns (matrix, dst corners)."""
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    angle = np.deg2rad(np.clip(rng.normal(0, 2.0), -6, 6))
    # Italic-like lean: mostly slight, sometimes a clearly slanted typeface or view.
    lean = np.clip(rng.normal(0, 0.06 if rng.random() < 0.25 else 0.015), -0.2, 0.2)
    c, s = np.cos(angle), np.sin(angle)
    pts = src - [w / 2, h / 2]
    pts[:, 0] -= lean * pts[:, 1]  # top moves right for a positive lean
    pts = pts @ np.float32([[c, -s], [s, c]]).T
    yaw = np.clip(rng.normal(0, 0.04), -0.12, 0.12)  # one side nearer the camera
    pts[:, 1] *= 1 + yaw * np.sign(pts[:, 0])
    # Keystone from looking up or down; small, since the lean it adds grows with plate width.
    pitch = np.clip(rng.normal(0, 0.008), -0.025, 0.025)
    pts[:, 0] *= 1 + pitch * np.sign(pts[:, 1])
    pts += rng.normal(0, 0.012 * h, (4, 2))
    dst = np.float32(pts)
    return cv2.getPerspectiveTransform(src, dst), dst


def _margins(rng: np.random.Generator, ph: float) -> np.ndarray:
    """Crop margins (left, top, right, bottom) around the plate, negative = cut into it."""
    r = rng.random()
    if r < 0.25:  # tight: border and edge partly cut away
        m = rng.uniform(-0.12, 0.03, 4)
    elif r < 0.6:
        m = rng.uniform(-0.02, 0.15, 4)
    else:  # loose, as detectors often cut: body and bumper around the plate on every side
        m = rng.uniform(0.05, 0.5, 4)
    return m * ph


def place(rng: np.random.Generator, plate: Plate) -> tuple[np.ndarray, np.ndarray | None]:
    """Warp the plate into a crop with background around it; returns the uint8 BGR crop and the
    character centres (x, y, line) moved with it (None where the plate has none)."""
    if rng.random() < 0.18:
        plate = add_frame(rng, plate)
    ph, pw = plate.alpha.shape
    hmat, dst = _homography(rng, pw, ph)
    x0, y0 = dst.min(axis=0)
    x1, y1 = dst.max(axis=0)
    m = _margins(rng, ph)
    box = np.float32(
        [
            plate.text_box[:2],
            [plate.text_box[2], plate.text_box[1]],
            plate.text_box[2:],
            [plate.text_box[0], plate.text_box[3]],
        ]
    )
    tb = cv2.perspectiveTransform(box[None], hmat)[0]
    keep = 0.1 * (plate.text_box[3] - plate.text_box[1])  # never cut the characters
    cx0 = min(x0 - m[0], tb[:, 0].min() - keep)
    cy0 = min(y0 - m[1], tb[:, 1].min() - keep)
    cx1 = max(x1 + m[2], tb[:, 0].max() + keep)
    cy1 = max(y1 + m[3], tb[:, 1].max() + keep)
    cw, ch = int(np.ceil(cx1 - cx0)), int(np.ceil(cy1 - cy0))
    shift = np.float64([[1, 0, -cx0], [0, 1, -cy0], [0, 0, 1]])
    full = shift @ hmat
    # Replicated borders keep the plate's own colour at its antialiased edge.
    warped = cv2.warpPerspective(plate.image, full, (cw, ch), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    a = (
        cv2.warpPerspective(
            plate.alpha, full, (cw, ch), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
        ).astype(np.float32)
        / 255
    )
    bg = background(rng, ch, cw)
    centres = None
    if plate.char_centres is not None:
        moved = cv2.perspectiveTransform(plate.char_centres[None, :, :2].astype(np.float64), full)[0]
        centres = np.concatenate([moved.astype(np.float32), plate.char_centres[:, 2:]], axis=1)
    return cv2.blendLinear(warped, bg, a, 1 - a), centres
