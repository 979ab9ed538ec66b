"""From a wheel in a fresh environment, in an empty folder: `anpr train` finds its configs inside
the package and `anpr predict pretrained` reads, with no checkout in sight."""

from __future__ import annotations

import os
import site
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT, write_rec_dataset
from helpers.models import TINY_MODEL
from helpers.plates import random_plate_texts

pytestmark = pytest.mark.slow


def _run(args: list, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    assert result.returncode == 0, f"{args[:3]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtual environment with the wheel built from this checkout; its dependencies come
    from the running environment (a path entry: nothing downloaded), the package from the wheel."""
    root = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", root, ROOT], root)
    wheel = next(root.glob("anpr-*.whl"))
    env = root / "venv"
    _run([sys.executable, "-m", "venv", env], root)
    python = env / "bin" / "python"
    _run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", wheel], root)
    own = _run([python, "-c", "import site; print(site.getsitepackages()[0])"], root).stdout.strip()
    Path(own, "dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return env / "bin"


def test_the_wheel_carries_the_configs_and_is_what_runs(installed, tmp_path):
    found = _run(
        [installed / "python", "-c", "import anpr.config.compose as c, anpr; print(anpr.__file__); print(c.CONF_DIR)"],
        tmp_path,
    ).stdout.split()
    assert str(installed.parent) in found[0], "the wheel's package must be the one imported"
    assert Path(found[1]) == Path(found[0]).parent / "conf" and (Path(found[1]) / "train.yaml").is_file()


def test_anpr_train_runs_from_an_empty_folder(installed, tmp_path):
    images_dir, labels_file = write_rec_dataset(tmp_path / "crops", random_plate_texts(12, seed=5))
    work = tmp_path / "empty"
    work.mkdir()
    _run(
        [
            installed / "anpr",
            "train",
            "data=rec",
            f"data.images_dir={images_dir}",
            f"data.labels_file={labels_file}",
            "hardware=cpu",
            "preset=speed",
            "debug=fast",
            "data.num_workers=0",
            "callbacks.progress_bar=null",
            "trainer.max_steps=2",
            *TINY_MODEL,
        ],
        work,
    )
    assert list((work / "outputs" / "train").rglob("*.ckpt")), sorted(map(str, work.rglob("*")))[:40]


def test_anpr_predict_pretrained_reads_from_an_empty_folder(installed, tmp_path):
    images_dir, labels_file = write_rec_dataset(tmp_path / "crops", random_plate_texts(3, seed=6))
    result = _run([installed / "anpr", "predict", "pretrained", images_dir, "--json"], tmp_path)
    assert len(result.stdout.splitlines()) == 3 and '"text"' in result.stdout
