"""Tiny rec-format datasets drawn with OpenCV: clean ones, and one with every defect the checker knows."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

# The CTC time steps make_broken_dataset's too-long label is measured against (the seed network's
# on 64x256, conf/model/crnn.yaml).
BROKEN_TIME_STEPS = 16


def draw_plate(text: str, height: int = 40, width: int = 160) -> np.ndarray:
    """A clean black-on-white plate image of ``text`` (BGR), enough to learn from in tests."""
    image = np.full((height, width, 3), 255, np.uint8)
    scale = 0.9 if len(text) <= 8 else 0.7
    cv2.putText(image, text, (4, height - 12), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 2, cv2.LINE_AA)
    return image


def write_rec_dataset(root: Path, texts: list[str], ext: str = ".png") -> tuple[Path, Path]:
    """Write ``root/images/*`` and ``root/labels.txt``; returns (images_dir, labels_file)."""
    images_dir = root / "images"
    images_dir.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, text in enumerate(texts):
        name = f"plate_{i:04d}{ext}"
        cv2.imwrite(str(images_dir / name), draw_plate(text))
        lines.append(f"{name}\t{text}")
    labels_file = root / "labels.txt"
    labels_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return images_dir, labels_file


def random_plate_texts(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    states = ["KL", "MH", "DL", "KA", "TN", "UP"]
    texts = []
    for _ in range(n):
        series = "".join(rng.choice(list(letters), size=rng.integers(1, 3)))
        texts.append(f"{rng.choice(states)}{rng.integers(1, 99):02d}{series}{rng.integers(0, 9999):04d}")
    return texts


def make_broken_dataset(root: Path, n: int = 20) -> tuple[Path, Path, set[tuple[int, str]]]:
    """A rec dataset with each defect the checker knows; returns (images_dir, labels_file, the
    (line, kind) pairs a check with BROKEN_TIME_STEPS time steps must report)."""
    texts = random_plate_texts(n, seed=7)
    images_dir, labels_file = write_rec_dataset(root, texts)
    names = [f"plate_{i:04d}.png" for i in range(n)]
    lines = [f"{name}\t{text}" for name, text in zip(names, texts)]
    image = lambda i: images_dir / names[i]  # noqa: E731

    lines[1] = f"{names[1]}\tkl-07 ab 1234"  # line 2: fixable characters
    lines[2] = f"{names[2]}\t"  # line 3: empty label
    lines[3] = f"{names[3]} {texts[3]}"  # line 4: no tab
    image(4).unlink()  # line 5: missing image
    data = image(5).read_bytes()
    image(5).write_bytes(data[: len(data) // 2])  # line 6: truncated PNG
    image(6).write_bytes(b"")  # line 7: zero bytes
    image(7).write_bytes(b"this is not an image")  # line 8: unreadable
    cv2.imwrite(str(image(8)), np.full((5, 40, 3), 255, np.uint8))  # line 9: too small
    cv2.imwrite(str(image(9)), cv2.cvtColor(cv2.imread(str(image(9))), cv2.COLOR_BGR2GRAY))  # line 10: gray
    cv2.imwrite(str(image(10)), cv2.cvtColor(cv2.imread(str(image(10))), cv2.COLOR_BGR2BGRA))  # line 11: RGBA
    cv2.imwrite(str(image(11)), cv2.imread(str(image(11))).astype(np.uint16) * 257)  # line 12: 16-bit
    lines[12] = f"{names[12]}\tKL07AB12345678901"  # line 13: 17 steps > 16
    lines[13] = f"{names[13]}\tKL07\u20acB1234"  # line 14: unfixable character
    jpeg = cv2.imencode(".jpg", cv2.imread(str(image(14))))[1].tobytes()
    (images_dir / "cut.jpg").write_bytes(jpeg[: len(jpeg) - 300])  # line 15: truncated JPEG
    lines[14] = f"cut.jpg\t{texts[14]}"
    lines[15] = f"{names[15]}\tＫL07AB\u200b1234"  # line 16: stray Unicode, fixable
    lines.append(lines[16])  # line n+1: duplicate of line 17
    lines.append(f"{names[17]}\tDL01AA0001")  # line n+2: a second label for line 18's image
    body = ("\r\n".join(lines) + "\r\n").encode("utf-8")
    body += b"caf\xe9.png\tAB12\r\n"  # line n+3: Latin-1, not UTF-8
    body += b"\tAB12\r\n"  # line n+4: no image name
    labels_file.write_bytes(b"\xef\xbb\xbf" + body)  # BOM, CRLF line endings

    expected = {
        (1, "bom"),
        (1, "crlf"),
        (2, "bad_chars"),
        (3, "empty_label"),
        (4, "no_tab"),
        (5, "missing_image"),
        (6, "truncated_image"),
        (7, "empty_image"),
        (8, "unreadable_image"),
        (9, "too_small"),
        (10, "gray_image"),
        (11, "rgba_image"),
        (12, "16bit_image"),
        (13, "too_long"),
        (14, "bad_chars"),
        (15, "truncated_image"),
        (16, "bad_chars"),
        (n + 1, "duplicate_line"),
        (18, "conflicting_labels"),
        (n + 2, "conflicting_labels"),
        (n + 3, "non_utf8"),
        (n + 4, "empty_name"),
    }
    return images_dir, labels_file, expected
