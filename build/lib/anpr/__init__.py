"""anpr: train, evaluate and export neural readers for Indian vehicle registration plates."""

__version__ = "0.1.0"
