"""The metadata is in pyproject.toml. This only copies the top-level `templates/` and
`rules/` folders into the package when it is built, as `mailbot/_shipped/`, so a plain
`pip install .` or a wheel carries them (an editable install reads them in place)."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SHIPPED = ("templates", "rules")


class BuildWithShippedFolders(build_py):
    def run(self) -> None:
        super().run()
        here = Path(__file__).resolve().parent
        for name in SHIPPED:
            target = Path(self.build_lib) / "mailbot" / "_shipped" / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(here / name, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildWithShippedFolders})
