# Everyday commands; CI runs `python -m pytest -q` (README, "Set-up in two commands").
.PHONY: test test-fast lint format

test:
	python -m pytest -q

test-fast:
	python -m pytest -q -m "not slow"

lint:
	ruff check anpr scripts tests
	ruff format --check anpr scripts tests

format:
	ruff format anpr scripts tests
	ruff check --fix anpr scripts tests
