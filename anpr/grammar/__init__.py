"""Which strings are plate readings: the grammar, its automaton, and how to choose one by name.

``grammar`` options everywhere (config, ``--grammar``, ``PlateReader(grammar=...)``) take
``india`` (built in), ``none`` (free text: no format check, no constrained decoding), a YAML file
in the :meth:`Grammar.from_mapping` form, or ``package.module:NAME`` naming a :class:`Grammar`.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from anpr.contract import DEFAULT_GRAMMAR

from .automaton import DEAD, Automaton, compile_automaton
from .india import INDIA, is_valid_plate, plate_format, plate_groups
from .spec import Grammar, GrammarError, Group, PlateFormat

BUILT_IN = {"india": INDIA}
FREE_TEXT = "none"
# Readers' `grammar` option: decode with the grammar stored in the model file.
FROM_MODEL = "model"


def load_grammar(name: str | Grammar | None) -> Grammar | None:
    """A grammar from its name, file or module path; ``None`` (or ``"none"``) for free text."""
    if name is None or isinstance(name, Grammar):
        return name
    key = str(name).strip()
    if key.lower() in ("", FREE_TEXT, "null"):
        return None
    if key.lower() in BUILT_IN:
        return BUILT_IN[key.lower()]
    if key.startswith("{"):  # embedded in a model file by embed_grammar
        try:
            data = json.loads(key)
        except json.JSONDecodeError as err:
            raise GrammarError(f"embedded grammar is not valid JSON ({err})") from None
        return Grammar.from_mapping(data, name=str(data.get("name", "custom")))
    if key.endswith((".yaml", ".yml")):
        return _from_yaml(Path(key))
    if ":" in key:
        module_name, attr = key.split(":", 1)
        try:
            found = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as err:
            raise GrammarError(f"grammar {key!r}: cannot import it ({err})") from None
        if not isinstance(found, Grammar):
            raise GrammarError(f"grammar {key!r} is a {type(found).__name__}, not an anpr.grammar.Grammar")
        return found
    raise GrammarError(f"unknown grammar {key!r}: use one of {sorted(BUILT_IN)}, 'none', a .yaml file or 'module:NAME'")


def embed_grammar(name: str | None) -> str | None:
    """``name`` as a model file stores it: a YAML grammar file becomes its content as JSON (checked),
    so the file decodes the same on a machine without that YAML file; other names stay as they are."""
    if name is None or not str(name).strip().endswith((".yaml", ".yml")):
        return name
    path = Path(str(name).strip())
    data = _yaml_mapping(path)
    _from_yaml(path)  # a bad grammar fails at training start, not when the model is read
    return json.dumps({"name": path.stem, **data}, sort_keys=True)


def _yaml_mapping(path: Path) -> dict:
    import yaml

    if not path.is_file():
        raise GrammarError(f"grammar file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise GrammarError(f"{path}: not valid YAML ({err})") from None
    if not isinstance(data, dict):
        raise GrammarError(f"{path}: expected a mapping with 'formats'")
    return data


def _from_yaml(path: Path) -> Grammar:
    try:
        return Grammar.from_mapping(_yaml_mapping(path), name=path.stem)
    except GrammarError as err:
        raise GrammarError(f"{path}: {err}") from None


__all__ = [
    "DEAD",
    "DEFAULT_GRAMMAR",
    "FREE_TEXT",
    "FROM_MODEL",
    "INDIA",
    "Automaton",
    "Grammar",
    "GrammarError",
    "Group",
    "PlateFormat",
    "compile_automaton",
    "embed_grammar",
    "is_valid_plate",
    "load_grammar",
    "plate_format",
    "plate_groups",
]
