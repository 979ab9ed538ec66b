"""What a whole read costs: image in, decoded plate out, for readers side by side.

``anpr benchmark read pretrained pretrained-v1 pretrained-v1@full+tight+tighter`` times each
reader on the same crops (synthetic, or ``--images DIR``; BGR arrays, as a camera hands them
over): preprocessing, every model call its members and views need, decoding, and the second
look at doubtful crops. Batch 1 is the mean latency a plate sees, every crop read alone (a second
look counts by how often it is taken); batch N the throughput of a queue. Readers are timed in
interleaved rounds (:mod:`anpr.inference.timing`), so a noisy neighbour slows all of them alike,
and each row is also given as a ratio to the first.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from anpr.bench.system import load_note, system_info
from anpr.bench.table import markdown_table
from anpr.inference.sources import sample_plates
from anpr.inference.timing import interleaved_medians


@dataclass(frozen=True)
class ReadSettings:
    """What the reader benchmark times."""

    plates: int = 64  # synthetic crops, also the throughput batch
    repeats: int = 60  # timed batch-1 reads per reader
    rounds: int = 3
    threads: int | None = 1  # model threads per reader (None: the runtime's default)
    seed: int = 11
    images: Path | None = None  # a folder of crops to read instead of synthetic plates (all of them)


def add_read_mode(modes: argparse._SubParsersAction) -> None:
    """The ``anpr benchmark read`` arguments."""
    read = modes.add_parser("read", help="whole reads of readers side by side: preprocessing, model calls, decoding")
    read.add_argument("readers", nargs="+", help="MODEL or MODEL@VIEW+VIEW, e.g. pretrained-v1@full+tight")
    read.add_argument("--threads", type=int, default=1, help="model threads per reader (default 1)")
    read.add_argument(
        "--images",
        type=Path,
        help="read every image in this folder (your own crops) instead of 64 synthetic plates",
    )
    read.add_argument("--out", type=Path, help="also write the Markdown table here")


def reader_spec(spec: str) -> tuple[str, tuple[str, ...] | None]:
    """``MODEL`` or ``MODEL@VIEW+VIEW``: the model and the views to read with (None: its own)."""
    model, _, views = spec.partition("@")
    return model, tuple(views.split("+")) if views else None


def run_read(specs: Sequence[str], s: ReadSettings, on_status: Callable[[str], None] = print) -> str:
    """The Markdown report: one row per reader spec."""
    from anpr.inference import PlateReader

    system = system_info(s.threads, packages=("torch", "onnxruntime"))
    images, source = crops(s)
    readers = {}
    for spec in specs:
        model, views = reader_spec(spec)
        readers[spec] = PlateReader.from_path(model, threads=s.threads, views=views)
    batch = min(s.plates, len(images))
    on_status(f"timing {len(readers)} reader(s) at batch 1 and {batch}, {s.rounds} interleaved rounds")
    passes = max(s.rounds, s.repeats * s.plates // (len(images) * 10))  # each pass reads every crop alone
    one = interleaved_medians(
        {spec: (lambda r=r: [r.read_one(image) for image in images]) for spec, r in readers.items()},
        warmup=1,
        repeats=passes,
        rounds=s.rounds,
    )
    one = {spec: seconds / len(images) for spec, seconds in one.items()}
    many = interleaved_medians(
        {spec: (lambda r=r: r.read(images, batch_size=s.plates)) for spec, r in readers.items()},
        warmup=1,
        repeats=max(3, s.repeats // 10),
        rounds=s.rounds,
    )
    first = specs[0]
    rows = []
    for spec, reader in readers.items():
        rows.append(
            (
                f"`{spec}`",
                "+".join(reader.views),
                reader.readings_per_plate,
                second_look_share(reader, images),
                f"{one[spec] * 1e3:.2f}",
                f"{one[spec] / one[first]:.2f}x",
                f"{len(images) / many[spec]:,.0f}",
                f"{many[first] / many[spec]:.2f}x",
            )
        )
    header = (
        *("reader", "views", "model calls a plate", "second look"),
        *("batch 1 (ms/plate)", "vs first", f"batch {batch} (plates/s)", "vs first"),
    )
    lines = [
        f"Reading {len(images)} {source}: preprocessing, model calls and decoding, "
        f"{s.threads or 'default'} thread(s) per reader, medians of interleaved rounds. Batch 1: the mean over "
        "every crop read alone; second look: the share of crops read again (and the model calls of each time).",
        "",
        *markdown_table(header, "llrrrrrr", rows),
        "",
        f"CPU: {system['cpu']}; onnxruntime {system['onnxruntime']}, torch {system['torch']}.",
        *load_note(system["load_average"], system["logical_cpus"]),
    ]
    return "\n".join(lines) + "\n"


def crops(s: ReadSettings) -> tuple[list, str]:
    """The BGR crops to read and a line saying what they are."""
    if s.images is None:
        images, _, source = sample_plates(s.plates, s.seed)
        return images, source
    from anpr.data.images import ImageReadError, read_image
    from anpr.errors import UserError
    from anpr.inference.sources import expand_inputs

    found = expand_inputs([s.images])
    problems = [f"{i.path}: {i.error}" for i in found if i.error]
    if problems:
        raise UserError(f"--images: {problems[0]}")
    try:
        images = [read_image(i.path)[:, :, ::-1].copy() for i in found]  # RGB -> BGR, as a camera hands it over
    except ImageReadError as err:
        raise UserError(f"--images: {err}") from None
    return images, f"crops from {s.images}"


def second_look_share(reader, images: list) -> str:
    """How many of ``images`` the reader's second look reads again, and at what cost in model calls."""
    look = reader.second_look
    if look is None:
        return "none"
    chunks = (images[start : start + 64] for start in range(0, len(images), 64))
    doubtful = sum(
        r.confidence < look.below for c in chunks for r in reader.decode(reader.logits(reader.preprocess(c)))
    )
    doubtful /= len(images)
    calls = len(look.views) * len(getattr(reader.backend, "members", (None,)))
    return f"{doubtful:.0%} (+{calls})"
