"""Read plates over HTTP, batching concurrent requests, with a page to review doubtful reads.

    anpr serve pretrained                                   # http://127.0.0.1:8000
    curl -F image=@crop.jpg http://127.0.0.1:8000/read
    anpr serve model.onnx --review-dir reviewed/ --min-confidence 0.9   # the page at / saves reviews
    anpr serve pretrained --host 0.0.0.0 --review-dir reviewed/ --token "$(openssl rand -hex 16)"

Reads are those of `anpr predict --json` with the same options. Reads below --min-confidence
(default 0.9 here) are flagged 'review' and queued on the page. Reference: docs/serve.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from anpr.cli.decoder_options import add_decoding_arguments
from anpr.serve.settings import MB, Batching, Decoding, Limits, ServeSettings

TOKEN_VARIABLE = "ANPR_SERVE_TOKEN"


def build_parser() -> argparse.ArgumentParser:
    """The command's arguments (also the source of its docs page)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    limits, batching = Limits(), Batching()
    p.add_argument("model", help="pretrained, pretrained-int8, a checkpoint (.ckpt) or an ONNX file (.onnx)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default 8000; 0 picks a free one)")
    p.add_argument("--workers", type=int, default=1, help="server processes, each with its own model (default 1)")
    p.add_argument(
        "--threads",
        type=int,
        default=ServeSettings.threads,
        help="model threads per process (default %(default)s: the event loop needs a core of its own)",
    )
    p.add_argument("--review-dir", default=None, help="save reviewed crops here as a rec dataset (default: no saving)")
    p.add_argument(
        "--token",
        default=None,
        help=f"required by the review endpoints (Authorization: Bearer TOKEN); needed with --review-dir off "
        f"127.0.0.1 (default: ${TOKEN_VARIABLE})",
    )
    options = {
        "batching": (
            ("--max-batch-size", int, batching.max_batch_size, "images per model call"),
            ("--batch-timeout", float, batching.batch_timeout_s, "seconds an idle model waits for more images"),
        ),
        "limits (anything past them is answered with a 4xx error)": (
            ("--max-body-mb", float, limits.max_body_bytes / MB, "request body, MB"),
            ("--max-images", int, limits.max_images, "images per request"),
            ("--max-pixels", int, limits.max_pixels, "width x height of an image, read from its header"),
            ("--read-timeout", float, limits.read_timeout_s, "seconds to receive the headers, and again the body"),
        ),
    }
    for title, flags in options.items():
        group = p.add_argument_group(title)
        for flag, kind, default, what in flags:
            shown = "%(default)g" if kind is float else "%(default)s"
            group.add_argument(flag, type=kind, default=default, help=f"{what} (default {shown})")
    add_decoding_arguments(p)
    p.set_defaults(min_confidence=Decoding().min_confidence)
    return p


def settings_from_args(args: argparse.Namespace) -> ServeSettings:
    return ServeSettings(
        model=args.model,
        host=args.host,
        port=args.port,
        workers=args.workers,
        threads=args.threads,
        review_dir=Path(args.review_dir) if args.review_dir else None,
        token=(args.token if args.token is not None else os.environ.get(TOKEN_VARIABLE)) or None,
        limits=Limits(
            max_body_bytes=int(args.max_body_mb * MB),
            max_images=args.max_images,
            max_pixels=args.max_pixels,
            read_timeout_s=args.read_timeout,
        ),
        batching=Batching(max_batch_size=args.max_batch_size, batch_timeout_s=args.batch_timeout),
        decoding=Decoding(
            decoder=args.decoder,
            grammar=args.grammar,
            min_valid_ratio=args.min_valid_ratio,
            n_best=args.n_best,
            min_confidence=args.min_confidence,
            views=tuple(args.views) if args.views else None,
            second_look=args.second_look is not None,
        ),
    )


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from anpr.cli.console import report_error
    from anpr.errors import UserError
    from anpr.grammar import GrammarError
    from anpr.inference import CheckpointError
    from anpr.serve.engine import load_reader
    from anpr.serve.server import run

    settings = settings_from_args(args)
    problems = settings.problems()
    if problems:
        report_error(problems[0])
        return 2
    try:  # a wrong model or grammar is a one-line error now, not a server that never gets ready
        reader = load_reader(settings)
    except (CheckpointError, GrammarError, UserError) as err:
        report_error(str(err))
        return 2
    if settings.review_dir is not None:
        try:
            settings.review_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            report_error(f"--review-dir {settings.review_dir}: {err.strerror or err}")
            return 2

    def on_listening(port: int) -> None:
        host = f"[{settings.host}]" if ":" in settings.host else settings.host
        saving = f"reviews saved under {settings.review_dir}" if settings.review_dir else "reviews not saved"
        token = "; open the page as /#token=TOKEN" if settings.token else ""
        print(f"anpr serve: {args.model} on http://{host}:{port} ({saving}{token})", flush=True)

    try:
        return run(settings, reader if settings.workers == 1 else None, on_listening)
    except OSError as err:  # the port is taken, the address is not ours
        report_error(f"cannot listen on {settings.host}:{settings.port}: {err.strerror or err}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
