"""Plate furniture around the characters: IND mark, hologram, border, screws, dealer text,
stickers, and the sheen of embossed plates."""

from __future__ import annotations

import cv2
import numpy as np

from .fonts import FontChoice, glyph

_BLUES = ((160, 60, 10), (200, 90, 30), (130, 40, 20))
_DEALER_WORDS = (
    "MOTORS AUTO HONDA HYUNDAI TOYOTA MARUTI SUZUKI BAJAJ HERO TVS CARS WHEELS AGENCIES "
    "AUTOMOBILES SALES SERVICE TRADERS KTM YAMAHA TATA MAHINDRA KIA RENAULT"
).split()
_SYLLABLES = "ra ma sh an ka vi de ep ut ta sa ro ya pa la ni gu ja ap ex ve ri ha mo".split()


def blend_mask(img: np.ndarray, mask: np.ndarray, colour, x: int = 0, y: int = 0, opacity: float = 1.0) -> None:
    """Paint ``colour`` through a uint8 ``mask`` placed at (x, y), clipped to ``img``."""
    h, w = mask.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, img.shape[1]), min(y + h, img.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    a = mask[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.float32) * np.float32(opacity / 255.0)
    region = img[y0:y1, x0:x1]
    paint = np.empty_like(region)
    paint[:] = np.clip(np.asarray(colour), 0, 255).astype(np.uint8)
    img[y0:y1, x0:x1] = cv2.blendLinear(paint, region, a, 1 - a)


def small_text(font: FontChoice, text: str, cap: int, tracking: float = 0.08) -> np.ndarray:
    """A short caption (IND, dealer name) as a mask, using the font's own advances."""
    cap = max(4, int(cap) // 2 * 2)  # few distinct sizes keep the glyph cache small
    masks = [glyph(font, ch, cap) for ch in text]
    width = int(sum(g.advance for g in masks) + tracking * cap * len(text)) + cap
    height = masks[0].mask.shape[0]
    out = np.zeros((height, width), np.uint8)
    x = 0.0
    for g in masks:
        px = max(0, round(x + g.left))
        region = out[:, px : px + g.mask.shape[1]]
        np.maximum(region, g.mask[:, : region.shape[1]], out=region)
        x += g.advance + tracking * cap
    cols = np.flatnonzero(out.max(axis=0))
    return out[:, : cols[-1] + 1] if cols.size else out


def dealer_name(rng: np.random.Generator) -> str:
    """A plausible dealer or shop name: made-up word plus a trade word, or a web address."""
    word = "".join(rng.choice(_SYLLABLES, int(rng.integers(2, 4)))).upper()
    trade = str(rng.choice(_DEALER_WORDS))
    r = rng.random()
    if r < 0.15:
        return f"WWW.{word}{trade}.COM"
    if r < 0.3:
        return f"{word} {trade} PH.9{int(rng.integers(10**8, 10**9))}"
    return f"{word} {trade}"


def chakra(img: np.ndarray, cx: int, cy: int, r: int, colour) -> None:
    """A small wheel: the Ashoka-chakra-like mark of high-security plates."""
    if r < 2:
        return
    cv2.circle(img, (cx, cy), r, colour, max(1, r // 5), cv2.LINE_AA)
    for k in range(8):
        a = k * np.pi / 8
        dx, dy = int(r * np.cos(a)), int(r * np.sin(a))
        cv2.line(img, (cx - dx, cy - dy), (cx + dx, cy + dy), colour, 1, cv2.LINE_AA)


def star_ring(img: np.ndarray, cx: int, cy: int, r: int, colour) -> None:
    """A ring of small dots, as on EU-style aftermarket strips."""
    dot = max(1, r // 6)
    for k in range(12):
        a = k * np.pi / 6
        cv2.circle(img, (cx + int(r * np.cos(a)), cy + int(r * np.sin(a))), dot, colour, -1, cv2.LINE_AA)


def hologram(img: np.ndarray, cx: int, cy: int, r: int, rng: np.random.Generator) -> None:
    """A silvery, rainbow-tinted disc like the HSRP hologram sticker."""
    if r < 3:
        return
    size = 2 * r + 1
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1].astype(np.float32)
    phase = rng.uniform(0, 6.28)
    ang = np.arctan2(yy, xx) * 2 + phase
    disc = np.stack([180 + 60 * np.sin(ang + k * 2.1) for k in range(3)], -1)
    inside = (xx**2 + yy**2 <= r * r).astype(np.float32)[..., None]
    x0, y0 = cx - r, cy - r
    if x0 < 0 or y0 < 0 or x0 + size > img.shape[1] or y0 + size > img.shape[0]:
        return
    region = img[y0 : y0 + size, x0 : x0 + size].astype(np.float32)
    img[y0 : y0 + size, x0 : x0 + size] = (region * (1 - inside) + disc * inside).astype(np.uint8)
    chakra(img, cx, cy, int(r * 0.6), (150, 110, 60))


def ind_mark(
    img: np.ndarray, x0: int, y0: int, y1: int, width: int, font: FontChoice, rng: np.random.Generator, strip: bool
) -> None:
    """The left-hand 'IND' mark: a coloured strip with white lettering, or blue letters alone."""
    height = y1 - y0
    cap = max(5, round(min(height * 0.2, width * 0.3)))
    if strip and rng.random() < 0.15:  # a brand sticker (orange or black block, slanted logo) instead
        colour = (20, 110, 240) if rng.random() < 0.6 else (25, 25, 25)
        cv2.rectangle(img, (x0, y0), (x0 + width, y1), colour, -1)
        ink = (20, 20, 20) if colour[2] > 200 else (40, 110, 240)
        for k in range(int(rng.integers(2, 4))):
            yy = y0 + int(height * (0.25 + 0.2 * k))
            cv2.line(
                img,
                (x0 + width // 5, yy + height // 8),
                (x0 + 4 * width // 5, yy - height // 8),
                ink,
                max(1, width // 8),
                cv2.LINE_AA,
            )
        return
    if strip:
        colour = (
            _BLUES[int(rng.integers(len(_BLUES)))]
            if rng.random() < 0.7
            else tuple(int(c) for c in rng.choice([(40, 40, 200), (30, 130, 240), (60, 140, 40), (25, 25, 25)]))
        )
        cv2.rectangle(img, (x0, y0), (x0 + width, y1), colour, -1)
        mark, ink = (255, 255, 255), (255, 255, 255)
    else:
        mark, ink = (190, 110, 50), _BLUES[int(rng.integers(len(_BLUES)))]
    cx = x0 + width // 2
    r = rng.random()
    mark_r = max(2, round(min(width, height) * 0.22))
    if r < 0.55:
        chakra(img, cx, y0 + round(height * 0.3), mark_r, mark)
    elif r < 0.85:
        star_ring(img, cx, y0 + round(height * 0.3), mark_r, (40, 200, 230) if strip else mark)
    label = small_text(font, "IND", cap)
    if label.shape[1] > width * 0.95:
        label = cv2.resize(label, (max(1, int(width * 0.9)), label.shape[0]))
    blend_mask(img, label, ink, cx - label.shape[1] // 2, y0 + round(height * 0.72) - label.shape[0] // 2)


def screws(img: np.ndarray, points: list[tuple[int, int]], r: int, rng: np.random.Generator) -> None:
    """Mounting screws or rivets: dark holes or shiny heads with a dark rim."""
    shiny = rng.random() < 0.5
    for x, y in points:
        if shiny:
            cv2.circle(img, (x, y), r, (70, 70, 70), -1, cv2.LINE_AA)
            cv2.circle(img, (x - r // 4, y - r // 4), max(1, r // 2), (225, 225, 225), -1, cv2.LINE_AA)
        else:
            grey = int(rng.integers(20, 90))
            cv2.circle(img, (x, y), r, (grey, grey, grey), -1, cv2.LINE_AA)


def border(img: np.ndarray, inset: int, thickness: int, radius: int, colour) -> None:
    """A rounded rectangular rim drawn ``inset`` pixels inside the plate edge."""
    h, w = img.shape[:2]
    x0, y0, x1, y1 = inset, inset, w - 1 - inset, h - 1 - inset
    r = max(0, min(radius, (x1 - x0) // 2, (y1 - y0) // 2))
    t = max(1, thickness)
    for (ax, ay), (bx, by) in (
        ((x0 + r, y0), (x1 - r, y0)),
        ((x0 + r, y1), (x1 - r, y1)),
        ((x0, y0 + r), (x0, y1 - r)),
        ((x1, y0 + r), (x1, y1 - r)),
    ):
        cv2.line(img, (ax, ay), (bx, by), colour, t, cv2.LINE_AA)
    if r > 0:
        for (cx, cy), start in (
            ((x0 + r, y0 + r), 180),
            ((x1 - r, y0 + r), 270),
            ((x1 - r, y1 - r), 0),
            ((x0 + r, y1 - r), 90),
        ):
            cv2.ellipse(img, (cx, cy), (r, r), 0, start, start + 90, colour, t, cv2.LINE_AA)


def rounded_alpha(h: int, w: int, radius: int) -> np.ndarray:
    """Opaque plate shape with rounded corners, as a uint8 mask."""
    a = np.full((h, w), 255, np.uint8)
    r = max(0, min(radius, h // 2, w // 2))
    if r:
        corner = np.zeros((r, r), np.uint8)
        cv2.circle(corner, (r, r), r, 255, -1, cv2.LINE_AA)
        a[:r, :r] = corner
        a[:r, w - r :] = corner[:, ::-1]
        a[h - r :, :r] = corner[::-1]
        a[h - r :, w - r :] = corner[::-1, ::-1]
    return a


_STICKER_COLOURS = ((25, 25, 190), (160, 60, 10), (235, 235, 235), (20, 170, 225), (30, 30, 30), (40, 120, 40))


def sticker(img: np.ndarray, box: tuple[int, int, int, int], font: FontChoice, rng: np.random.Generator) -> None:
    """A dealer's or brand's sticker in ``box`` (x0, y0, x1, y1): a rounded patch with a short
    word or an oval logo on it, as stuck beside the registration on many plates."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    if w < 6 or h < 6:
        return
    fill = _STICKER_COLOURS[int(rng.integers(len(_STICKER_COLOURS)))]
    ink = (20, 20, 20) if sum(fill) > 450 else (240, 240, 240)
    patch = np.zeros((h, w), np.uint8)
    r = max(1, int(min(w, h) * rng.uniform(0.05, 0.3)))
    cv2.rectangle(patch, (r, 0), (w - 1 - r, h - 1), 255, -1)
    cv2.rectangle(patch, (0, r), (w - 1, h - 1 - r), 255, -1)
    for cx, cy in ((r, r), (w - 1 - r, r), (r, h - 1 - r), (w - 1 - r, h - 1 - r)):
        cv2.circle(patch, (cx, cy), r, 255, -1, cv2.LINE_AA)
    blend_mask(img, patch, fill, x0, y0)
    if rng.random() < 0.4:  # an oval badge
        axes = (max(1, int(w * 0.36)), max(1, int(h * 0.3)))
        cv2.ellipse(img, (x0 + w // 2, y0 + h // 2), axes, 0, 0, 360, ink, max(1, h // 12), cv2.LINE_AA)
        return
    word = small_text(font, str(rng.choice(_DEALER_WORDS))[: int(rng.integers(3, 7))], max(4, int(h * 0.4)))
    if word.shape[1] > w * 0.9:
        word = cv2.resize(word, (max(1, int(w * 0.9)), word.shape[0]), interpolation=cv2.INTER_AREA)
    blend_mask(img, word, ink, x0 + (w - word.shape[1]) // 2, y0 + (h - word.shape[0]) // 2)


def sheen(img: np.ndarray, rng: np.random.Generator) -> None:
    """A light band across an embossed aluminium plate, the reflection of the sky at an angle."""
    h, w = img.shape[:2]
    angle = rng.uniform(0.3, 1.3) * (1 if rng.random() < 0.5 else -1)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    distance = (xx - w * rng.uniform(0.1, 0.9)) * np.cos(angle) + (yy - h / 2) * np.sin(angle)
    band = np.exp(-((distance / (rng.uniform(0.08, 0.3) * w)) ** 2)) * rng.uniform(25, 70)
    img[:] = np.clip(img.astype(np.float32) + band[..., None], 0, 255).astype(np.uint8)
