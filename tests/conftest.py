"""Fixtures; the helpers tests import live in tests/helpers/."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import random_plate_texts, write_rec_dataset

from anpr.config.compose import register_resolvers

register_resolvers()


@pytest.fixture
def rec_dataset(tmp_path: Path) -> tuple[Path, Path]:
    return write_rec_dataset(tmp_path / "rec", random_plate_texts(40))
