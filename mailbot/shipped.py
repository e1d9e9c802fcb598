"""Where the templates and the house rules are. The top-level folders `templates/` and
`rules/` of the repository stay where the design puts them: beside the package in a checkout
(and so in an editable install), copied into it as `mailbot/_shipped/` when a wheel is built
(see setup.py), so `pip install .` and a wheel find them too."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def folder(name: str) -> Path:
    """`templates` or `rules`: the copy inside the installed package, else the checkout's."""
    inside = _PACKAGE / "_shipped" / name
    return inside if inside.is_dir() else _PACKAGE.parent / name
