"""Builds kubeline-azureml: one ``.pth`` file and no package.

Why: docs/decisions/0016-azureml-import-name.md.

The ``.pth`` line installs kubeline's import finder for the names ``azureml`` and
``azureml_user`` at interpreter start. No file named ``azureml`` is installed, so Microsoft's
SDK in the same environment is never overwritten: the finder then steps aside and says so.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

PTH = "kubeline-azureml.pth"
LINE = "import kubeline_azureml; kubeline_azureml.install()\n"


class BuildWithPth(build_py):
    """Writes the .pth at the root of the build, so the wheel puts it in site-packages."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / PTH
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(LINE, encoding="utf-8")

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return [*super().get_outputs(include_bytecode), str(Path(self.build_lib) / PTH)]


setup(cmdclass={"build_py": BuildWithPth})
