"""The documentation: the site builds in strict mode, every command has a page generated from its
parser, the navigation copes with pages that do not exist yet, and the README stays a front door."""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"
# the public Python API the site documents (docs/api.md)
API = [
    "anpr.inference.PlateReader",
    "anpr.decoding.PlateDecoder",
    "anpr.data.datamodule.PlateDataModule",
    "anpr.contract.PlateContract",
]


def load_generated():
    """docs/generated.py, the module the site's build runs (docs/ is no package)."""
    spec = importlib.util.spec_from_file_location("docs_generated", DOCS / "generated.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generated = load_generated()


def parser_actions(parser: argparse.ArgumentParser):
    """Every argument of a parser and of its subcommands' parsers."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from parser_actions(sub)
        elif not isinstance(action, argparse._HelpAction):
            yield action


@pytest.mark.parametrize("name", list(generated.commands()))
def test_every_command_has_a_page_with_every_option_of_its_parser(name: str) -> None:
    page = generated.command_page(name)
    assert page.startswith(f"# anpr {name}\n")
    module = importlib.import_module(f"anpr.cli.{name}")
    if not hasattr(module, "build_parser"):  # anpr train: Hydra's config groups
        for group, options in generated.config_groups(generated.conf_dir()).items():
            assert f"### {group}\n" in page
            assert all(f"`{option}`" in page for option in options), group
        return
    with generated.program_name(f"anpr {name}"):
        parser = module.build_parser()
    for action in parser_actions(parser):
        if action.option_strings:
            missing = [option for option in action.option_strings if f"`{option}" not in page]
            assert not missing, f"anpr {name}: {missing} not on its page"
        else:
            assert f"`{generated.metavar_of(action)}`" in page, f"anpr {name}: {action.dest} not on its page"
        if action.help and action.help != argparse.SUPPRESS:
            first_words = " ".join(generated.expanded_help(parser, action).split()[:3])
            assert generated.escape_prose(first_words) in page, f"anpr {name} {action.dest}: its help"


def test_a_default_the_help_does_not_state_is_shown() -> None:
    parser = argparse.ArgumentParser(prog="anpr demo")
    parser.add_argument("--size", type=int, default=8, help="how big")
    parser.add_argument("--batch", type=int, default=32, help="images per call (default 32)")
    parser.add_argument("--mode", choices=["a", "b"], metavar="MODE", help="which <kind>")
    page = generated.parser_page("demo", parser, "")
    assert "- `--size SIZE`: how big. Default: `8`." in page
    assert "(default 32)" in page and "Default: `32`" not in page
    assert "which &lt;kind&gt;. One of `a`, `b`." in page


def test_the_navigation_lists_the_pages_that_exist(tmp_path: Path) -> None:
    (tmp_path / "index.md").write_text("# Home\n")
    (tmp_path / "training.md").write_text("# Training\n")
    nav = generated.summary(tmp_path)
    assert "(training.md)" in nav and "(serve.md)" not in nav and "(inference.md)" not in nav
    assert all(f"(commands/{name}.md)" in nav for name in generated.commands())
    assert "* More" not in nav

    (tmp_path / "serve.md").write_text("# Serving\n")  # written by another change, named in NAV
    (tmp_path / "notes.md").write_text("# Notes\n")  # named nowhere: still reachable
    nav = generated.summary(tmp_path)
    assert "[Serving over HTTP](serve.md)" in nav
    assert "* More\n    * [Notes](notes.md)" in nav


def test_the_layout_page_lists_every_module() -> None:
    page = generated.layout_page()
    package = ROOT / "anpr"
    for path in package.rglob("*.py"):
        if path.name != "__init__.py":
            assert f"`anpr/{path.relative_to(package).as_posix()}`" in page


def test_the_readme_is_a_front_door() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    assert text.count("python scripts/") <= 1, "one spelling of every command: anpr X"
    assert "pip install -e . && anpr train" in text  # set-up 1: install and train the demo
    assert 'pip install -e ".[dev]" && python -m pytest -q' in text  # set-up 2: what .ci/run runs
    assert "python -m pytest -q" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_readme_links_to_files_that_exist() -> None:
    text = README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [t for t in targets if "://" not in t]
    assert local, "the README points into docs/"
    assert not [t for t in local if not (ROOT / t).exists()]


@pytest.mark.slow
def test_the_site_builds_in_strict_mode(tmp_path: Path) -> None:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", DISABLE_MKDOCS_2_WARNING="true")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    for name in generated.commands():
        assert (tmp_path / "commands" / name / "index.html").is_file()
    api = (tmp_path / "api" / "index.html").read_text(encoding="utf-8")
    for name in API:
        assert f'id="{name}"' in api, f"{name} is not on the API page"
