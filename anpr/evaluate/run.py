"""One evaluation, as `anpr evaluate` runs it: read a labelled set with a model (clean, under
detector conditions, and against a second model), and write every report file.

The command only parses its arguments and prints :mod:`anpr.evaluate.summary`'s tables; Python
users call :func:`evaluate_model` and get the same numbers and files.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anpr.data.layouts import find_layouts_file
from anpr.data.sheets import write_png
from anpr.evaluate.comparison import compare_reads, differing_plates
from anpr.evaluate.conditions import CLEAN, condition_summary, conditions_sheet, evaluate_conditions
from anpr.evaluate.report import Sample, evaluate, reads_sheet, write_report
from anpr.inference import PlateReader

# condition -> (metrics, samples, the folder its images are in)
Results = dict[str, tuple[dict[str, Any], list[Sample], Path]]


@dataclass
class EvaluationRun:
    """What one evaluation found and wrote."""

    model: Path
    labels_file: Path
    layouts_file: Path | None
    decoder: str
    metrics: dict[str, Any]  # the clean crops' metrics.json
    results: Results
    conditions: dict[str, dict[str, Any]] = field(default_factory=dict)  # conditions.json, when asked
    other_model: Path | None = None
    comparison: dict[str, Any] | None = None  # comparison.json, when asked
    written: dict[str, Path] = field(default_factory=dict)

    @property
    def num_samples(self) -> int:
        return len(self.results[CLEAN][1])


def default_out(model: str | Path) -> Path:
    """``outputs/evaluate/<model>-<date_time>``."""
    return Path("outputs/evaluate") / f"{Path(model).stem}-{time.strftime('%Y-%m-%d_%H-%M-%S')}"


def evaluate_model(
    model: str | Path,
    images_dir: str | Path,
    labels_file: str | Path,
    out: str | Path | None = None,
    *,
    layouts_file: str | Path | None = None,
    conditions: Sequence[str] = (),
    perturb_seed: int = 0,
    batch_size: int = 64,
    worst: int = 24,
    compare: str | Path | None = None,
    threads: int | None = None,
    decoding: Mapping[str, Any] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> EvaluationRun:
    """Read ``labels_file``'s crops with ``model`` and write the reports to ``out``.

    Args:
        conditions: detector conditions (:data:`anpr.evaluate.perturb.CONDITIONS`) whose perturbed
            copies are also read; each gets its report under ``out/conditions/<name>``.
        compare: a second model read on the same crops (and conditions), paired plate by plate.
        decoding: :class:`~anpr.inference.PlateReader` decoding options for both models.
    """
    model, images_dir, labels_file = Path(model), Path(images_dir), Path(labels_file)
    out = Path(out) if out is not None else default_out(model)
    layouts_file = Path(layouts_file) if layouts_file else find_layouts_file(images_dir, labels_file)
    decoding = dict(decoding or {})
    read_set = (images_dir, labels_file, layouts_file)
    reader = PlateReader.from_path(model, threads=threads, **decoding)
    if conditions:
        results = evaluate_conditions(
            reader, *read_set, list(conditions), out / "conditions", perturb_seed, batch_size, on_progress=on_progress
        )
    else:
        metrics, samples = evaluate(reader, *read_set, batch_size, on_progress=on_progress)
        results = {CLEAN: (metrics, samples, images_dir)}
    decoded_with = {"decoder": reader.decoder.decoder, "grammar": _grammar_name(reader)}
    metrics, samples, _ = results[CLEAN]
    run = EvaluationRun(model, labels_file, layouts_file, reader.decoder.decoder, {**decoded_with, **metrics}, results)
    size = (reader.info.contract.image_height, reader.info.contract.image_width)  # crops as the model sees them
    run.written = write_report(run.metrics, samples, images_dir, out, size, worst)
    for condition, (m, s, images) in results.items():
        if condition != CLEAN:
            write_report(
                {**decoded_with, "condition": condition, **m}, s, images, out / "conditions" / condition, size, worst
            )
    if conditions:
        run.conditions = condition_summary(results)
        run.written["conditions"] = _write_json(run.conditions, out / "conditions.json")
        sheet = conditions_sheet(results, size)
        if sheet is not None:
            run.written["conditions_sheet"] = write_png(sheet, out / "conditions.png")
    if compare is not None:
        other = PlateReader.from_path(compare, threads=threads, **decoding)
        other_results = evaluate_conditions(
            other,
            *read_set,
            list(conditions),
            out / "conditions",
            batch_size=batch_size,
            on_progress=on_progress,
            write_copies=False,  # the first model's copies, read as they are
        )
        run.other_model = Path(compare)
        run.comparison = _compare(run, other_results, out, size)
    return run


def model_names(run: EvaluationRun) -> list[str]:
    """The two compared models' names as tables show them: file names, or paths where those clash."""
    names = [run.model.name, run.other_model.name if run.other_model else ""]
    return names if names[0] != names[1] else [str(run.model), str(run.other_model)]


def _compare(run: EvaluationRun, other_results: Results, out: Path, size: tuple[int, int]) -> dict[str, Any]:
    """``comparison.json`` (both models, plate by plate, per condition) and ``comparison.png``."""
    by_condition = {c: compare_reads(run.results[c][1], other_results[c][1]) for c in run.results}
    comparison = {"first": str(run.model), "second": str(run.other_model), **by_condition[CLEAN]}
    if len(by_condition) > 1:
        comparison["by_condition"] = by_condition
    run.written["comparison"] = _write_json(comparison, out / "comparison.json")
    first, second = run.results[CLEAN][1], other_results[CLEAN][1]
    images_dir = run.results[CLEAN][2]
    names = model_names(run)
    sheet = reads_sheet(
        {names[0]: (first, images_dir), names[1]: (second, images_dir)}, differing_plates(first, second), size
    )
    if sheet is not None:
        run.written["comparison_sheet"] = write_png(sheet, out / "comparison.png")
    return comparison


def _grammar_name(reader: PlateReader) -> str:
    grammar = reader.decoder.grammar
    return grammar.name if grammar is not None else "none"


def _write_json(data: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path
