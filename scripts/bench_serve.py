"""Load-test `anpr serve`: N concurrent clients, one real crop per request, for a bounded time.

    python scripts/bench_serve.py IMAGES_DIR [--model pretrained] [--clients 16] [--seconds 60]
    python scripts/bench_serve.py IMAGES_DIR --server-args "--max-batch-size 16 --threads 1"
    python scripts/bench_serve.py IMAGES_DIR --url http://127.0.0.1:8000 --server-pid PID

Starts the server (unless --url names a running one), drives it on loopback, stops it with
SIGTERM and prints plates/s, p50/p95/p99 latency, errors, the server's peak memory and the
machine as Markdown. Exit code 1 when any request failed. The work is anpr.serve.loadtest.
"""

from __future__ import annotations

import argparse
import shlex
import sys


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("images_dir", help="folder of plate crops sent one per request, in name order, round robin")
    p.add_argument("--model", default="pretrained", help="what the server reads with (default pretrained)")
    p.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    p.add_argument("--seconds", type=float, default=60.0, help="measured duration (default 60)")
    p.add_argument("--warmup", type=float, default=3.0, help="seconds of load before measuring (default 3)")
    p.add_argument("--server-args", default="", help="more `anpr serve` options, as one shell-quoted string")
    p.add_argument("--url", default=None, help="drive this running server instead of starting one")
    p.add_argument("--server-pid", type=int, default=None, help="with --url: the process whose memory to report")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from anpr.cli.console import report_error
    from anpr.serve.loadtest import report, run_load_test

    try:
        result = run_load_test(
            args.images_dir,
            args.model,
            args.clients,
            args.seconds,
            args.warmup,
            tuple(shlex.split(args.server_args)),
            args.url,
            args.server_pid,
        )
    except (FileNotFoundError, RuntimeError) as err:
        report_error(str(err))
        return 2
    print(report(result, args.images_dir))
    return 1 if result.errors else 0


if __name__ == "__main__":
    sys.exit(main())
