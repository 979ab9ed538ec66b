"""Synthetic Indian number plates: the project's built-in training data."""

from anpr.grammar import is_valid_plate, plate_format, plate_groups

from .generator import GENERATOR_VERSION, PlateSynthesizer, SynthSample
from .text import sample_plate, sample_plate_text
from .writer import render_contact_sheet, write_dataset

__all__ = [
    "GENERATOR_VERSION",
    "PlateSynthesizer",
    "SynthSample",
    "is_valid_plate",
    "plate_format",
    "plate_groups",
    "render_contact_sheet",
    "sample_plate",
    "sample_plate_text",
    "write_dataset",
]
