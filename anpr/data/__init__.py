"""Plate data: labels files, images, augmentation, datasets and the DataModules.

Names are imported lazily so light users (the synthetic renderer, the checker) don't pay for
importing Lightning.
"""

from anpr.lazy import lazy_attributes

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


__getattr__ = lazy_attributes(__name__, _EXPORTS)
