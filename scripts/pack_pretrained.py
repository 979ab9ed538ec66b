"""Make a trained checkpoint a model of the reader that ships with the package (anpr/pretrained/).

    python scripts/pack_pretrained.py cal.ckpt --name plate_reader_v2 \\
        --command "anpr train experiment=pretrained_v2" --commit <sha> --wall-time "75 min"

Writes <name>.ckpt (network weights and the anpr block only), <name>.onnx (fp32, parity-checked)
and the model's entry in provenance.json (the command, commit, data and wall time given here, and
the file sizes). reader.json names the models pretrained reads with; describe the result in
docs/pretrained.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from anpr.export.pack import pack


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", type=Path, help="a training checkpoint (.ckpt)")
    p.add_argument("--name", required=True, help="the model's file stem in anpr/pretrained, e.g. plate_reader_v2")
    p.add_argument("--command", required=True, help="the training command that made it")
    p.add_argument("--commit", required=True, help="the commit it was trained at")
    p.add_argument("--wall-time", required=True, help="how long training took, e.g. '83 min on 2 CPU cores'")
    p.add_argument("--data", default="built-in synthetic plates", help="what it was trained on")
    p.add_argument("--note", action="append", default=[], help="anything else worth recording")
    args = p.parse_args(argv)
    provenance = {
        "command": args.command,
        "commit": args.commit,
        "wall_time": args.wall_time,
        "data": args.data,
        "source_checkpoint": args.checkpoint.name,
        "notes": args.note,
    }
    for path in pack(args.checkpoint, provenance, args.name):
        print(f"Wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    print(json.dumps(provenance, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
