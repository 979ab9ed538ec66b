"""The `anpr` command: usage, dispatch to each command, errors, and the scripts/ shims."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import pytest
from helpers import ROOT, compose_train

from anpr.cli import train as train_command
from anpr.cli.main import COMMANDS

SCRIPTS = {
    "train": "train",
    "synth": "synth",
    "check": "check_data",
    "predict": "predict",
    "evaluate": "evaluate",
    "export": "export",
    "benchmark": "benchmark",
    "calibrate": "calibrate",
    "perturb": "perturb",
    "interpolate": "interpolate",
    "serve": "serve",
}


def anpr(*args: str, cwd: Path = ROOT, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "anpr", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def plate_png(tmp_path: Path) -> Path:
    from anpr.data.synth import PlateSynthesizer

    path = tmp_path / "plate.png"
    assert cv2.imwrite(str(path), PlateSynthesizer(seed=123).render(0).image)
    return path


def test_help_lists_every_command_once_and_no_arguments_is_an_error() -> None:
    assert set(COMMANDS) == set(SCRIPTS)
    result = anpr("--help")
    assert result.returncode == 0 and result.stderr == ""
    lines = result.stdout.splitlines()
    for name in SCRIPTS:
        listed = [line for line in lines if line.split()[:1] == [name]]
        assert len(listed) == 1 and len(listed[0].split()) > 1, (name, result.stdout)  # a name and what it does
    bare = anpr()
    assert bare.returncode == 2 and bare.stdout == ""
    assert all(name in bare.stderr for name in SCRIPTS)


def test_unknown_command_is_one_line_on_stderr() -> None:
    result = anpr("trian", "preset=speed")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [f"error: unknown command 'trian' (choose from {', '.join(COMMANDS)})"]


def test_command_help_is_the_commands_own(tmp_path: Path) -> None:
    result = anpr("predict", "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "usage: anpr predict" in result.stdout
    assert "Read number plates from image files" in result.stdout  # predict's docstring
    assert "--min-confidence" in result.stdout and "--json" in result.stdout


@pytest.mark.slow
def test_predict_reads_a_plate_with_the_shipped_model(plate_png: Path) -> None:
    result = anpr("predict", "pretrained", str(plate_png), "--threads", "1", cwd=plate_png.parent)
    assert result.returncode == 0, result.stderr
    assert str(plate_png) in result.stdout


@pytest.mark.slow
def test_predict_does_not_load_lightning_or_hydra(plate_png: Path) -> None:
    code = (
        "import sys\nfrom anpr.cli.main import main\n"
        f"assert main(['predict', 'pretrained', {str(plate_png)!r}, '--json', '--threads', '1']) == 0\n"
        "print(sorted(m for m in ('lightning', 'hydra') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=plate_png.parent, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"


@pytest.mark.slow
def test_train_cfg_job_prints_the_composed_config_like_the_script(tmp_path: Path) -> None:
    result = anpr("train", "--cfg", "job", "preset=speed", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "charset:" in result.stdout and "task_name: train" in result.stdout
    script = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train.py"), "--cfg", "job", "preset=speed"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert script.returncode == 0, script.stderr
    assert script.stdout == result.stdout
    assert not (tmp_path / "outputs").exists()  # --cfg trains nothing and makes no run folder


def test_train_without_its_config_folder_says_so(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "conf"
    assert train_command.main(["--cfg", "job"], conf_dir=missing) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"error: anpr train needs its config folder and {missing} is missing: reinstall anpr "
        "(the wheel carries anpr/conf) or run from a clone of the repository"
    ]


@pytest.mark.parametrize("started_as", ["anpr train", "python -m anpr train", "python scripts/train.py"])
def test_ddp_ranks_rerun_a_command_that_trains(started_as: str, tmp_path: Path, monkeypatch) -> None:
    """Lightning starts DDP ranks 1..N-1 by re-running the command line with the job's overrides.
    `anpr train`'s cannot be (the subcommand comes first), so its ranks run the module instead."""
    import importlib.util

    from hydra.core.hydra_config import HydraConfig
    from lightning.fabric.strategies.launchers.subprocess_script import _hydra_subprocess_cmd

    script = tmp_path / "scripts" / "train.py"
    script.parent.mkdir()
    script.write_text("")
    main_module = sys.modules["__main__"]
    argv0, spec = {  # sys.argv[0] as anpr/cli.py leaves it, and __main__'s module
        "anpr train": ("anpr train", None),
        "python -m anpr train": ("anpr train", importlib.util.find_spec("anpr.__main__")),
        "python scripts/train.py": (str(script), None),
    }[started_as]
    monkeypatch.setattr(sys, "argv", [argv0, "-m", "preset=speed,balanced"])
    monkeypatch.setattr(main_module, "__spec__", spec)
    monkeypatch.setattr(HydraConfig.instance(), "cfg", None)
    HydraConfig.instance().set_config(compose_train(["preset=speed"]))
    with train_command.hydra_command_line(["preset=speed"]):
        command, _ = _hydra_subprocess_cmd(local_rank=1)
    if started_as == "python scripts/train.py":  # re-run as before
        assert command[:3] == [sys.executable, str(script), "preset=speed"]
    else:
        assert command[:4] == [sys.executable, "-m", "anpr.cli.train", "preset=speed"]
    assert sys.argv[0] == argv0 and main_module.__spec__ is spec  # put back afterwards


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_scripts_are_shims_over_the_commands(name: str, tmp_path: Path) -> None:
    script = ROOT / "scripts" / f"{SCRIPTS[name]}.py"
    result = subprocess.run(
        [sys.executable, str(script), "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    via_anpr = anpr(name, "--help", cwd=tmp_path)
    assert via_anpr.returncode == 0, via_anpr.stderr
    if name == "train":  # Hydra's help: the same config groups either way
        assert result.stdout == via_anpr.stdout
    else:  # argparse's: the same text, under the name it was started by
        assert f"usage: {script.name}" in result.stdout and f"usage: anpr {name}" in via_anpr.stdout
        assert result.stdout.split("\n\n", 1)[1] == via_anpr.stdout.split("\n\n", 1)[1]
