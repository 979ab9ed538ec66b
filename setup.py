"""The packages to build: anpr's, plus the top-level conf/ shipped inside the wheel as anpr/conf.

conf/ stays at the repository's top level (the design card's layout); mapping it in lets
`pip install anpr` then `anpr train ...` work in any folder (anpr/config/compose.py finds it).
Everything else about the build is in pyproject.toml.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["anpr", "anpr.*"]), "anpr.conf"],
    package_dir={"anpr.conf": "conf"},
)
