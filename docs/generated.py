"""The parts of the docs site made from the code, so they cannot drift from it.

- One page per `anpr` command. An argparse command's page comes from
  ``anpr.cli.<name>.build_parser()``: its usage, description and every argument with its help,
  choices and default. ``anpr train`` is driven by Hydra, so its page comes from the docstring of
  ``anpr.cli.train`` and from the config groups in ``conf/``.
- The package layout, from the docstrings.
- The navigation, from the pages that exist.

docs/gen_pages.py writes them when the site is built; tests/test_docs.py checks them.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import os
import re
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

COMMANDS_DIR = "commands"  # the command pages' folder inside the site

# (title, page) in the order the site shows them; a title alone starts a section. A page listed
# here that does not exist (yet) is left out of the navigation, so it never points at a missing file.
NAV = [
    ("Home", "index.md"),
    ("Guides", None),
    ("Reading plates", "inference.md"),
    ("The shipped reader", "pretrained.md"),
    ("Serving over HTTP", "serve.md"),
    ("Training", "training.md"),
    ("Your own data", "data.md"),
    ("Checking a dataset", "data_checks.md"),
    ("Synthetic plates", "synthetic.md"),
    ("Sweeps and multi-GPU", "sweeps.md"),
    ("Reference", None),
    ("What the recipes reach", "results.md"),
    ("Detector conditions", "conditions.md"),
    ("Models", "models.md"),
    ("The CTC plateau", "plateau.md"),
    ("Training speed", "training_speed.md"),
    ("Metrics", "metrics.md"),
    ("Package layout", "layout.md"),
    ("Development", "development.md"),
]
API = [("Python API", "api.md")]
GENERATED = {"layout.md"}  # pages written at build time, not files under docs/


def commands() -> dict[str, str]:
    """Every `anpr` command with its one-line summary, as ``anpr --help`` lists them."""
    return dict(importlib.import_module("anpr.cli.main").COMMANDS)


def command_page(name: str) -> str:
    """The Markdown page of ``anpr <name>``."""
    module = importlib.import_module(f"anpr.cli.{name}")
    if hasattr(module, "build_parser"):
        with program_name(f"anpr {name}"):
            return parser_page(name, module.build_parser(), commands().get(name, ""))
    if name == "train":
        return train_page(module.__doc__ or "")
    raise ValueError(f"anpr.cli.{name} has no build_parser(): its docs page cannot be generated")


def index_page() -> str:
    """The commands' overview page."""
    lines = [
        "# Commands",
        "",
        "Installing `anpr` puts one command on the PATH; `anpr <command> --help` prints what these",
        "pages show. Each page is generated from the command's own argument parser (or, for",
        "`anpr train`, from its Hydra config groups) when this site is built.",
        "",
        "| command | what it does |",
        "|---|---|",
    ]
    lines += [f"| [`anpr {name}`]({name}.md) | {escape_table(summary)} |" for name, summary in commands().items()]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------
# argparse commands


@contextmanager
def program_name(prog: str, columns: int = 100) -> Iterator[None]:
    """argparse names a parser (and its subparsers) after sys.argv[0] when it is built, and wraps
    its usage at $COLUMNS: both fixed here, so a page does not depend on who builds the site."""
    saved_argv, saved_columns = sys.argv, os.environ.get("COLUMNS")
    sys.argv = [prog, *saved_argv[1:]]
    os.environ["COLUMNS"] = str(columns)
    try:
        yield
    finally:
        sys.argv = saved_argv
        if saved_columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved_columns


def parser_page(name: str, parser: argparse.ArgumentParser, summary: str) -> str:
    lines = [f"# anpr {name}", ""]
    if summary and not parser.description:
        lines += [escape_prose(summary), ""]
    lines += parser_section(parser, level=2)
    return "\n".join(lines).rstrip() + "\n"


def parser_section(parser: argparse.ArgumentParser, level: int) -> list[str]:
    lines = ["```text", parser.format_usage().strip(), "```", ""]
    lines += description_markdown(parser.description or "")
    for group in parser._action_groups:
        actions = [a for a in group._group_actions if not isinstance(a, argparse._HelpAction)]
        arguments = [a for a in actions if not isinstance(a, argparse._SubParsersAction)]
        if arguments:
            lines += [f"{'#' * level} {group.title[:1].upper()}{group.title[1:]}", ""]
            lines += [argument_markdown(parser, action) for action in arguments]
            lines.append("")
        for action in actions:
            if isinstance(action, argparse._SubParsersAction):
                helps = {choice.dest: choice.help for choice in action._choices_actions}
                for sub_name, sub_parser in action.choices.items():
                    lines += [f"{'#' * level} {sub_parser.prog}", ""]
                    if helps.get(sub_name):
                        lines += [f"*{escape_prose(helps[sub_name])}*", ""]
                    lines += parser_section(sub_parser, level + 1)
    return lines


def argument_markdown(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    """One list item: the option strings (with their metavar), the help, choices and default."""
    if action.option_strings:
        takes_value = action.nargs != 0
        metavar = f" {metavar_of(action)}" if takes_value else ""
        names = ", ".join(f"`{option}{metavar}`" for option in action.option_strings)
    else:
        names = f"`{metavar_of(action)}`"
    help_text = expanded_help(parser, action)
    facts = []
    if action.required and action.option_strings:
        facts.append("required")
    if action.choices is not None and action.metavar is not None:  # else the metavar lists them
        facts.append("one of " + ", ".join(f"`{choice}`" for choice in action.choices))
    default = default_of(action)
    if default is not None and not states_default(help_text, default):
        facts.append(f"default: `{default}`")
    text = escape_prose(help_text) if help_text else ""
    if facts:
        fact_text = "; ".join(facts)
        text = (text.rstrip(".") + ". " if text else "") + fact_text[:1].upper() + fact_text[1:] + "."
    return f"- {names}: {text}" if text else f"- {names}"


def states_default(help_text: str, default: str) -> bool:
    """Whether a help text already says its default: the word, or the value standing alone."""
    return "default" in help_text.lower() or bool(re.search(rf"(?<![\w.]){re.escape(default)}(?![\w.])", help_text))


def metavar_of(action: argparse.Action) -> str:
    if action.metavar is not None:
        return action.metavar if isinstance(action.metavar, str) else " ".join(action.metavar)
    if not action.option_strings:
        return action.dest
    if action.choices is not None:
        return "{" + ",".join(map(str, action.choices)) + "}"
    return action.dest.upper()


def expanded_help(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    """The help with ``%(default)s`` and friends filled in, without a formatter's own additions."""
    if not action.help or action.help == argparse.SUPPRESS:
        return ""
    return " ".join(argparse.HelpFormatter(parser.prog)._expand_help(action).split())


def default_of(action: argparse.Action) -> str | None:
    """The default worth stating: not for flags, not None, not suppressed."""
    if action.nargs == 0 or action.default in (None, argparse.SUPPRESS) or action.default == []:
        return None
    if isinstance(action.default, list | tuple):
        return " ".join(map(str, action.default))
    return str(action.default)


def description_markdown(description: str) -> list[str]:
    """A command's description: prose paragraphs as text, command examples as code blocks."""
    lines: list[str] = []
    for paragraph in re.split(r"\n\s*\n", textwrap.dedent(description).strip("\n")):
        rows = paragraph.splitlines()
        if not rows:
            continue
        if all(row.startswith((" ", "\t", "anpr ", "python ")) for row in rows):
            lines += ["```bash", textwrap.dedent(paragraph).strip("\n"), "```", ""]
        else:
            lines += [escape_prose(" ".join(row.strip() for row in rows)), ""]
    return lines


# ----------------------------------------------------------------------------------------------
# anpr train: Hydra config groups


def conf_dir() -> Path:
    return importlib.import_module("anpr.config.compose").CONF_DIR


def train_page(docstring: str, conf: Path | None = None) -> str:
    conf = Path(conf or conf_dir())
    lines = ["# anpr train", ""]
    summary, _, rest = textwrap.dedent(docstring).strip().partition("\n")
    lines += [escape_prose(summary.strip()), ""]
    lines += description_markdown(textwrap.dedent(rest))
    lines += [
        "Arguments are Hydra overrides of `conf/train.yaml`: `group=option` picks a file of a config",
        "group below, `key=value` sets any value (`trainer.max_epochs=30`), `-m` runs a sweep over",
        "comma-separated values, `--cfg job` prints the composed config and `--help` lists the groups.",
        "",
    ]
    defaults = train_defaults(conf)
    head = leading_comment(conf / "train.yaml", sentences=None)
    if head:
        lines += ["## conf/train.yaml", "", "```text", head, "```", ""]
    lines += ["## Config groups", ""]
    lines += [
        "Each group is a folder of `conf/`; the option in bold is the one `conf/train.yaml` picks",
        "when the command line names none.",
        "",
    ]
    for group, options in config_groups(conf).items():
        chosen = defaults.get(group)
        default_note = f" (default: `{chosen}`)" if chosen else " (default: none)" if group in defaults else ""
        lines += [f"### {group}", "", f"`{group}=<option>`{default_note}", ""]
        for option, path in options.items():
            label = f"**`{option}`**" if option == chosen else f"`{option}`"
            about = leading_comment(path)
            lines.append(f"- {label}: {escape_prose(about)}" if about else f"- {label}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def config_groups(conf: Path) -> dict[str, dict[str, Path]]:
    """``group -> option -> file`` for every folder of YAML files under ``conf`` (nested too)."""
    groups: dict[str, dict[str, Path]] = {}
    for path in sorted(conf.rglob("*.yaml")):
        if path.parent == conf:
            continue
        group = path.parent.relative_to(conf).as_posix()
        groups.setdefault(group, {})[path.stem] = path
    return dict(sorted(groups.items()))


def train_defaults(conf: Path) -> dict[str, str | None]:
    """The group options conf/train.yaml's defaults list picks (None: the group is off by default)."""
    entries = yaml.safe_load((conf / "train.yaml").read_text(encoding="utf-8")).get("defaults", [])
    picked: dict[str, str | None] = {}
    for entry in entries:
        if isinstance(entry, dict):
            for group, option in entry.items():
                picked[group.removeprefix("override ")] = option
    return picked


def leading_comment(path: Path, sentences: int | None = 1) -> str:
    """The comment block a YAML file opens with (``# @package`` lines left out).

    With ``sentences=1`` only its first sentence, as one line: what the option is for.
    """
    block = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        text = line[1:].removeprefix(" ")
        if not text.startswith("@package"):
            block.append(text)
    if sentences is None:
        return "\n".join(block).strip()
    paragraph = []
    for text in block:
        if (not text.strip() or text.startswith("  ")) and paragraph:
            break  # a blank line or an indented example ends the first paragraph
        paragraph.append(text.strip())
    prose = " ".join(t for t in paragraph if t)
    match = re.match(r"(.+?\.)(\s|$)", prose)
    return (match.group(1) if match else prose).rstrip(":")


# ----------------------------------------------------------------------------------------------
# The package layout, from the docstrings


def package_dir() -> Path:
    return Path(importlib.import_module("anpr").__file__).resolve().parent


def first_docstring_line(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    return " ".join(doc.split("\n\n")[0].split()) if doc else ""


def layout_page(package: Path | None = None) -> str:
    """Every package and module of anpr with the first paragraph of its docstring."""
    package = Path(package or package_dir())
    lines = [
        "# Package layout",
        "",
        "`anpr/` is grouped by what a user does; at its top level sit only the modules everything",
        "shares. This page is generated from the docstrings when the site is built, so it lists what",
        "the code holds. `conf/` holds the Hydra configs ([anpr train](commands/train.md) lists them),",
        "`scripts/` thin equivalents of the commands, `tests/` the pytest suite.",
        "",
        "## Top level",
        "",
    ]
    modules = sorted(p for p in package.glob("*.py"))
    lines += [f"- `anpr/{p.name}`: {escape_prose(first_docstring_line(p))}" for p in modules]
    lines.append("")
    for sub in sorted(p for p in package.iterdir() if (p / "__init__.py").is_file()):
        lines += [f"## anpr/{sub.name}/", "", escape_prose(first_docstring_line(sub / "__init__.py")), ""]
        for path in sorted(sub.rglob("*.py")):
            if path.name == "__init__.py" and path.parent == sub:
                continue
            rel = path.relative_to(package).as_posix()
            name = (
                f"anpr/{rel}" if path.name != "__init__.py" else f"anpr/{path.parent.relative_to(package).as_posix()}/"
            )
            lines.append(f"- `{name}`: {escape_prose(first_docstring_line(path))}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# ----------------------------------------------------------------------------------------------
# The navigation


def summary(docs: Path) -> str:
    """The navigation as literate-nav's SUMMARY.md: NAV's pages that exist, the commands, the API,
    and under "More" any page in ``docs`` that NAV does not name (so none is left unreachable)."""
    named = {page for _, page in NAV + API if page}
    sections: list[tuple[str | None, list[str]]] = [(None, [])]
    for title, page in NAV:
        if page is None:
            sections.append((title, []))
        elif (docs / page).is_file() or page in GENERATED:
            sections[-1][1].append(f"[{title}]({page})")
    lines = []
    for title, items in sections:
        if title is None:
            lines += [f"* {item}" for item in items]
        elif items:  # a section whose pages are all missing is left out
            lines += [f"* {title}", *(f"    * {item}" for item in items)]
    lines.append(f"* [Commands]({COMMANDS_DIR}/index.md)")
    lines += [f"    * [anpr {name}]({COMMANDS_DIR}/{name}.md)" for name in commands()]
    lines += [f"* [{title}]({page})" for title, page in API]
    others = sorted(
        rel
        for rel in (path.relative_to(docs).as_posix() for path in docs.rglob("*.md"))
        if rel not in named and not rel.startswith((".", f"{COMMANDS_DIR}/"))
    )
    if others:
        lines.append("* More")
        lines += [f"    * [{Path(page).stem.replace('_', ' ').capitalize()}]({page})" for page in others]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------
# Markdown escaping


def escape_prose(text: str) -> str:
    """Keep ``<TAB>``, ``*`` and ``_`` literal outside `code spans`; leave the code spans alone.

    Docstrings' reStructuredText spans (````x````, ``:class:`~x```) become Markdown code spans.
    """
    text = re.sub(r":\w+:`~?([^`]+)`", r"`\1`", text)
    text = re.sub(r"``([^`]+)``", r"`\1`", text)
    parts = re.split(r"(`[^`]*`)", text)
    for i in range(0, len(parts), 2):
        parts[i] = (
            parts[i]
            .replace("\\", "\\\\")
            .replace("&", "&amp;")
            .replace("<", "&lt;")
            .replace(">", "&gt;")
            .replace("*", "\\*")
            .replace("_", "\\_")
        )
    return "".join(parts)


def escape_table(text: str) -> str:
    return escape_prose(text).replace("|", "\\|")
