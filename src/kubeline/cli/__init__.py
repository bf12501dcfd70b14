"""The ``kubeline`` command, one module per command group; app.py assembles them.

``main`` is looked up lazily so that ``python -m kubeline.cli.run`` does not import the
run command twice (once through the assembled CLI, once as ``__main__``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubeline.cli.app import main as main


def __getattr__(name: str) -> Any:
    if name == "main":
        from kubeline.cli.app import main

        return main
    raise AttributeError(f"module 'kubeline.cli' has no attribute {name!r}")
