"""The image check cache: probe results per image file, keyed by its size and modification time, in
one JSON file per images folder, so a second check only decodes new or changed images."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

from anpr.data.checks.images import Finding, ImageFacts

log = logging.getLogger(__name__)

CACHE_VERSION = 1


class ImageCache:
    """Per-image probe results keyed by (size, mtime), in ``<cache_dir>/<hash of images dir>.json``."""

    def __init__(self, images_dir: Path, cache_dir: Path | None) -> None:
        self.path = None
        self.entries: dict[str, list] = {}
        self.dirty = False
        if cache_dir is None:
            return
        key = hashlib.sha1(str(images_dir.resolve()).encode()).hexdigest()[:16]
        self.path = Path(cache_dir) / f"images-{key}.json"
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("version") == CACHE_VERSION:
                self.entries = data["entries"]
        except (OSError, ValueError, KeyError):
            self.entries = {}
        self.images_dir = str(images_dir.resolve())

    def get(self, name: str, stat: tuple[int, int], decode: bool) -> ImageFacts | Finding | None:
        entry = self.entries.get(name)
        if not entry or entry[0] != stat[0] or entry[1] != stat[1] or (decode and not entry[2]):
            return None
        if len(entry) == 5:
            return (entry[3], entry[4])
        return ImageFacts(entry[3], entry[4], entry[5], entry[6], bool(entry[2]))

    def put(self, name: str, stat: tuple[int, int], result: ImageFacts | Finding, decode: bool) -> None:
        if isinstance(result, ImageFacts):
            entry = [stat[0], stat[1], decode, result.height, result.width, result.channels, result.depth]
        else:
            entry = [stat[0], stat[1], decode, result[0], result[1]]
        self.entries[name] = entry
        self.dirty = True

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        data = {"version": CACHE_VERSION, "images_dir": self.images_dir, "entries": self.entries}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as err:
            log.warning("could not write the data check cache %s: %s", self.path, err)
