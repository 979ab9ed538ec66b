"""Plate data: labels files, images, augmentation, datasets and the DataModules.

Names are imported lazily so light users (the synthetic renderer, the checker) don't pay for
importing Lightning.
"""

from importlib import import_module

_EXPORTS = {
    "DatasetError": "anpr.data.labels",
    "LabelRecord": "anpr.data.labels",
    "read_labels": "anpr.data.labels",
    "Preprocessor": "anpr.data.images",
    "read_image": "anpr.data.images",
    "PlateDataset": "anpr.data.dataset",
    "collate_plates": "anpr.data.dataset",
    "PlateDataModule": "anpr.data.datamodule",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'anpr.data' has no attribute {name!r}")
