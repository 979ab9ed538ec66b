"""Network parts and the CRNN plate reader built from them."""

from anpr.models.crnn import CRNN, StageConfig

__all__ = ["CRNN", "StageConfig"]
