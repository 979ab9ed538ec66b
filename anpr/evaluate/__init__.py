"""Measuring readers: accuracy reports, detector conditions, paired comparison, significance."""
