"""Capture conditions: light, wear, blur, resolution, noise and compression."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

_LUMA = np.float32([0.114, 0.587, 0.299])  # BGR weights of grey


@lru_cache(maxsize=1)
def _grain() -> np.ndarray:
    """A fixed noise tile; random windows of it give paint and sheeting texture cheaply."""
    g = np.random.default_rng(1234).normal(0, 1, (384, 1024)).astype(np.float32)
    return cv2.GaussianBlur(g, (0, 0), 0.7) * np.float32(1.6)


def _grain_window(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    tile = _grain()
    if h > tile.shape[0] or w > tile.shape[1]:
        tile = cv2.resize(tile, (max(w, tile.shape[1]), max(h, tile.shape[0])))
    y = int(rng.integers(0, tile.shape[0] - h + 1))
    x = int(rng.integers(0, tile.shape[1] - w + 1))
    return tile[y : y + h, x : x + w]


def _light_field(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Uneven light: a linear gradient plus a soft blotchy gain, built on a coarse grid."""
    gx, gy = rng.normal(0, 0.25, 2)
    yy, xx = np.mgrid[0:1:4j, 0:1:5j].astype(np.float32)
    low = 1 + gx * (xx - 0.5) + gy * (yy - 0.5) + rng.normal(0, rng.uniform(0.03, 0.15), (4, 5))
    return cv2.resize(low.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)


def _shadow(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A shadow edge (bumper, tree, photographer) across the plate, as a gain map."""
    mask = np.zeros((h, w), np.float32)
    pts = np.array([[rng.uniform(-0.2, 1.2) * w, rng.uniform(-0.3, 1.3) * h] for _ in range(4)], np.int32)
    cv2.fillPoly(mask, [cv2.convexHull(pts)], 1.0)
    mask = cv2.GaussianBlur(mask, (0, 0), rng.uniform(0.5, 4))
    return 1 - mask * np.float32(rng.uniform(0.25, 0.6))


def _glare(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A specular highlight that washes out part of the plate, as an additive map."""
    sh, sw = max(2, h // 4), max(2, w // 4)
    cx, cy = rng.uniform(0, sw), rng.uniform(0, sh)
    sx, sy = rng.uniform(0.05, 0.3) * sw, rng.uniform(0.1, 0.5) * sh
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    blob = np.exp(-(((xx - cx) / sx) ** 2 + ((yy - cy) / sy) ** 2)) * np.float32(rng.uniform(50, 140))
    return cv2.resize(blob.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)


def _dirt(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Dust speckle, mud smears and the odd white bird-dropping-like blob."""
    h, w = img.shape[:2]
    dirt = np.zeros((h, w), np.float32)
    n = int(rng.integers(3, 40))
    for _ in range(n):
        r = max(1, int(rng.uniform(0.003, 0.03) * w))
        cv2.circle(dirt, (int(rng.integers(0, w)), int(rng.integers(0, h))), r, float(rng.uniform(0.2, 0.7)), -1)
    dirt = cv2.GaussianBlur(dirt, (0, 0), 1.0) * np.float32(0.7)
    mud = np.empty_like(img)
    mud[:] = np.clip(np.float32([40, 70, 95]) * rng.uniform(0.6, 1.4), 0, 255).astype(np.uint8)
    img = cv2.blendLinear(mud, img, dirt, 1 - dirt)
    if rng.random() < 0.15:
        blob = np.zeros((h, w), np.float32)
        c = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        ax = (max(2, int(rng.uniform(0.01, 0.03) * w)), max(2, int(rng.uniform(0.05, 0.12) * h)))
        cv2.ellipse(blob, c, ax, float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
        blob = cv2.GaussianBlur(blob, (0, 0), 1.0) * np.float32(rng.uniform(0.6, 0.85))
        white = np.full_like(img, 228)
        img = cv2.blendLinear(white, img, blob, 1 - blob)
    return img


def _blur(rng: np.random.Generator, img: np.ndarray, cap_px: float, cap_out: float) -> np.ndarray:
    """Motion or defocus blur, sized against the final character height (min ~1 px)."""
    to_canon = cap_px / cap_out
    if rng.random() < 0.4:
        length_out = max(1.5, rng.uniform(0.02, 0.1) * cap_out)
        length = max(2, int(round(length_out * to_canon)))
        k = np.zeros((length, length), np.float32)
        k[length // 2, :] = 1
        angle = rng.normal(0, 15) if rng.random() < 0.8 else rng.uniform(0, 180)
        rot = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), angle, 1)
        k = cv2.warpAffine(k, rot, (length, length))
        return cv2.filter2D(img, -1, k / max(k.sum(), 1e-6))
    sigma_out = max(0.5, rng.uniform(0.01, 0.035) * cap_out)
    return cv2.GaussianBlur(img, (0, 0), sigma_out * to_canon)


def _photometric(rng: np.random.Generator, img: np.ndarray) -> np.ndarray:
    """Light field, shadow, texture, colour cast, haze, night and glare, in a few C calls."""
    h, w = img.shape[:2]
    gain = None
    if rng.random() < 0.6:
        gain = _light_field(rng, h, w)
    if rng.random() < 0.15:
        gain = _shadow(rng, h, w) * (1 if gain is None else gain)
    if rng.random() < 0.6:  # paint / reflective sheeting texture
        grain = 1 + _grain_window(rng, h, w) * np.float32(rng.uniform(0.006, 0.025))
        gain = grain if gain is None else gain * grain
    out = img if gain is None else cv2.multiply(img, cv2.merge([gain, gain, gain]), dtype=cv2.CV_8U)
    k = np.ones(3, np.float32)
    b = np.zeros(3, np.float32)
    if rng.random() < 0.5:  # colour cast and exposure
        k *= rng.uniform(0.95, 1.05, 3) * rng.uniform(0.85, 1.2)
        b += rng.uniform(-15, 15)
    if rng.random() < 0.35:  # haze / faded contrast
        c = rng.uniform(0.55, 0.9)
        mean = np.float32(cv2.mean(out)[:3]) * k + b
        k *= c
        b = b * c + mean * (1 - c)
    if rng.random() < 0.05:  # night: dark, warm street light
        d = rng.uniform(0.25, 0.5) * np.float32([0.85, 0.95, 1.1])
        k *= d
        b = b * d + rng.uniform(0, 15)
    mix = np.diag(k)
    if rng.random() < 0.6:  # washed-out camera colour: pull towards grey
        sat = rng.uniform(0.3, 0.9)
        mix = mix @ (sat * np.eye(3) + (1 - sat) * np.tile(_LUMA, (3, 1)))
    if not (np.allclose(mix, np.eye(3)) and np.all(b == 0)):
        out = cv2.transform(out, np.hstack([mix, b[:, None]]).astype(np.float32))
    if rng.random() < 0.1:
        glare = _glare(rng, h, w).astype(np.uint8)
        out = cv2.add(out, cv2.merge([glare, glare, glare]))
    return out


def degrade(rng: np.random.Generator, img: np.ndarray, cap_px: float, out_h: int) -> np.ndarray:
    """Apply capture conditions to a canonical-size crop and resize it to ``out_h`` rows.

    Each effect is drawn independently with a modest probability so that most
    images stay clearly legible while the tails cover hard real cases.
    """
    out = _dirt(rng, img) if rng.random() < 0.25 else img
    h, w = out.shape[:2]
    out_w = max(8, round(w * out_h / h))
    cap_out = cap_px * out_h / h
    if rng.random() < 0.4:
        out = _blur(rng, out, cap_px, cap_out)
    if rng.random() < 0.2 and cap_out > 12:  # low-resolution source, upsampled later
        low_h = max(10, int(out_h * rng.uniform(max(0.3, 9 / cap_out), 0.75)))
        low = cv2.resize(out, (max(8, round(w * low_h / h)), low_h), interpolation=cv2.INTER_AREA)
        low = _photometric(rng, low)
        interp = cv2.INTER_LINEAR if rng.random() < 0.7 else cv2.INTER_NEAREST
        out = cv2.resize(low, (out_w, out_h), interpolation=interp)
    else:
        out = cv2.resize(out, (out_w, out_h), interpolation=cv2.INTER_AREA)
        out = _photometric(rng, out)

    if rng.random() < 0.35:  # phone-camera sharpening halos
        soft = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.8, 2.0))
        amount = rng.uniform(0.5, 1.5)
        out = cv2.addWeighted(out, 1 + amount, soft, -amount, 0)
    if rng.random() < 0.5:  # sensor noise, luma-only or per channel
        sigma = rng.uniform(2, 10)
        if rng.random() < 0.5:
            n = _grain_window(rng, out_h, out_w) * np.float32(sigma / 0.65)
            n = cv2.merge([n, n, n])
        else:
            n = rng.normal(0, sigma, (out_h, out_w, 3)).astype(np.float32)
        out = cv2.add(out, n, dtype=cv2.CV_8U)
    if rng.random() < 0.7:
        q = int(rng.uniform(18, 90))
        _, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, q])
        out = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return out
