"""What a whole read costs: image in, decoded plate out, for readers side by side.

``anpr benchmark read pretrained pretrained-v1 pretrained-v1@full+tight+tighter`` times each
reader on the same synthetic crops (BGR arrays, as a camera hands them over): preprocessing,
every model call its members and views need, and decoding. Batch 1 is the latency a single
plate sees; batch 64 the throughput of a queue. Readers are timed in interleaved rounds
(:mod:`anpr.inference.timing`), so a noisy neighbour slows all of them alike, and each row is
also given as a ratio to the first.
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


def add_read_mode(modes: argparse._SubParsersAction) -> None:
    """The ``anpr benchmark read`` arguments."""
    read = modes.add_parser("read", help="whole reads of readers side by side: preprocessing, model calls, decoding")
    read.add_argument("readers", nargs="+", help="MODEL or MODEL@VIEW+VIEW, e.g. pretrained-v1@full+tight")
    read.add_argument("--threads", type=int, default=1, help="model threads per reader (default 1)")
    read.add_argument("--out", type=Path, help="also write the Markdown table here")


def reader_spec(spec: str) -> tuple[str, tuple[str, ...] | None]:
    """``MODEL`` or ``MODEL@VIEW+VIEW``: the model and the views to read with (None: its own)."""
    model, _, views = spec.partition("@")
    return model, tuple(views.split("+")) if views else None


def run_read(specs: Sequence[str], s: ReadSettings, on_status: Callable[[str], None] = print) -> str:
    """The Markdown report: one row per reader spec."""
    from anpr.inference import PlateReader

    system = system_info(s.threads, packages=("torch", "onnxruntime"))
    images, _, source = sample_plates(s.plates, s.seed)
    readers = {}
    for spec in specs:
        model, views = reader_spec(spec)
        readers[spec] = PlateReader.from_path(model, threads=s.threads, views=views)
    on_status(f"timing {len(readers)} reader(s) at batch 1 and {s.plates}, {s.rounds} interleaved rounds")
    one = interleaved_medians(
        {spec: (lambda r=r: r.read_one(images[0])) for spec, r in readers.items()}, repeats=s.repeats, rounds=s.rounds
    )
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
                f"{one[spec] * 1e3:.2f}",
                f"{one[spec] / one[first]:.2f}x",
                f"{s.plates / many[spec]:,.0f}",
                f"{many[first] / many[spec]:.2f}x",
            )
        )
    header = (
        *("reader", "views", "model calls a plate"),
        *("batch 1 (ms/plate)", "vs first", "batch 64 (plates/s)", "vs first"),
    )
    lines = [
        f"Reading {s.plates} {source}: preprocessing, model calls and decoding, "
        f"{s.threads or 'default'} thread(s) per reader, medians of interleaved rounds.",
        "",
        *markdown_table(header, "llrrrrr", rows),
        "",
        f"CPU: {system['cpu']}; onnxruntime {system['onnxruntime']}, torch {system['torch']}.",
        *load_note(system["load_average"], system["logical_cpus"]),
    ]
    return "\n".join(lines) + "\n"
