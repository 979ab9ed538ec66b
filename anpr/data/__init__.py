"""Plate data: labels files, images, augmentation, datasets and the DataModules."""

from anpr.data.datamodule import PlateDataModule
from anpr.data.dataset import PlateDataset, collate_plates
from anpr.data.images import Preprocessor, read_image
from anpr.data.labels import DatasetError, LabelRecord, read_labels

__all__ = [
    "DatasetError",
    "LabelRecord",
    "PlateDataModule",
    "PlateDataset",
    "Preprocessor",
    "collate_plates",
    "read_image",
    "read_labels",
]
