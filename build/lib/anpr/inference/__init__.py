"""Reading plates with trained models: checkpoints or ONNX files, one preprocessing for both."""

from anpr.inference.reader import (
    CheckpointError,
    ModelInfo,
    PlateRead,
    PlateReader,
    UnsafeCheckpointError,
    load_checkpoint,
)

__all__ = [
    "CheckpointError",
    "ModelInfo",
    "PlateRead",
    "PlateReader",
    "UnsafeCheckpointError",
    "load_checkpoint",
]
