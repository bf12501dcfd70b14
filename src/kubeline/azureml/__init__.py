"""kubeline's ``azureml`` module tree: the AML SDK v1 import paths over kubeline's own API.

Every module here re-exports kubeline names (``kubeline.dsl``, ``kubeline.exceptions``,
``kubeline.runtime.run``); nothing below this package implements behaviour. Azure-only
names refuse with "not supported" (docs/aml-compat.md). ``import kubeline.azureml.core``
always works; the plain ``import azureml.core`` works once the opt-in ``kubeline-azureml``
distribution is installed (compat/azureml/, docs/decisions/0016-azureml-import-name.md).

Importing this package makes an uncaught kubeline error end a plain script with its one
line instead of a traceback, as the ``kubeline`` CLI does (Jupyter uses
``KubelineError._render_traceback_``).
"""

from __future__ import annotations

from kubeline import __version__
from kubeline.exceptions import install_one_line_hook
from kubeline.runtime.run import apply_surface

__all__ = ["__version__"]

apply_surface()  # Run's AML signature checks (plain kubeline applies them on first use)


install_one_line_hook()
