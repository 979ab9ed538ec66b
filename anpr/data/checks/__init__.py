"""Checking a rec dataset before training: every bad line with its file and line number.

One job a module: :mod:`~anpr.data.checks.issues` (the kinds of problem and how they are
listed), :mod:`~anpr.data.checks.labels` (the label texts), :mod:`~anpr.data.checks.images` (one
image file), :mod:`~anpr.data.checks.scan` and :mod:`~anpr.data.checks.cache` (all the images,
cached per file), :mod:`~anpr.data.checks.dataset` (:func:`check_dataset`, the one scan behind
``anpr check`` and the training guard), :mod:`~anpr.data.checks.report` (its result and
the guard's messages), :mod:`~anpr.data.checks.fix` (``--fix-labels``) and
:mod:`~anpr.data.checks.preview` (``--show``: samples as the model sees them). The checks never
change data.

Names are imported lazily, as in :mod:`anpr.data`: :mod:`anpr.data.labels`, which the checks read
labels with, itself takes :class:`Issue` from here, and importing every module up front would go
round in a circle.
"""

from anpr.lazy import lazy_attributes

_EXPORTS = {
    "KINDS": "anpr.data.checks.issues",
    "Kind": "anpr.data.checks.issues",
    "Issue": "anpr.data.checks.issues",
    "sort_issues": "anpr.data.checks.issues",
    "count_by_kind": "anpr.data.checks.issues",
    "format_issue_list": "anpr.data.checks.issues",
    "normalise_label": "anpr.data.checks.labels",
    "describe_chars": "anpr.data.checks.labels",
    "check_label_records": "anpr.data.checks.labels",
    "ImageLimits": "anpr.data.checks.images",
    "ImageFacts": "anpr.data.checks.images",
    "probe_image": "anpr.data.checks.images",
    "inspect_image": "anpr.data.checks.images",
    "ImageCache": "anpr.data.checks.cache",
    "default_workers": "anpr.data.checks.scan",
    "scan_images": "anpr.data.checks.scan",
    "image_findings": "anpr.data.checks.scan",
    "check_dataset": "anpr.data.checks.dataset",
    "CheckReport": "anpr.data.checks.report",
    "training_error_message": "anpr.data.checks.report",
    "write_bad_samples": "anpr.data.checks.report",
    "FixResult": "anpr.data.checks.fix",
    "write_fixed_labels": "anpr.data.checks.fix",
    "ShownSample": "anpr.data.checks.preview",
    "load_augmenter": "anpr.data.checks.preview",
    "prepare_samples": "anpr.data.checks.preview",
    "contact_sheet": "anpr.data.checks.preview",
    "write_png": "anpr.data.checks.preview",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_attributes(__name__, _EXPORTS)
