"""Turning checkpoints into deployable files: ONNX, int8, calibration, the shipped reader."""
