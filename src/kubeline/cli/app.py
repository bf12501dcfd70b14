"""The ``kubeline`` command: the root group and its commands, one module per group.

Known errors print one line and exit 2 (cli/support.py).
"""

from __future__ import annotations

import click

from kubeline.cli.compute import compute_group
from kubeline.cli.manifests import compile_command, validate_command
from kubeline.cli.reuse import cache_group, explain_command
from kubeline.cli.run import run_command
from kubeline.cli.runs import runs_group
from kubeline.cli.server import published_group, schedule_group, serve_command, token_group
from kubeline.cli.support import OneLineGroup


@click.group(cls=OneLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kubeline")
def main() -> None:
    """Azure ML style pipelines compiled to Argo Workflows, runnable on this machine."""


for _name, _command in {
    "compile": compile_command, "validate": validate_command, "run": run_command,
    "runs": runs_group, "compute": compute_group, "explain-reuse": explain_command,
    "cache": cache_group, "serve": serve_command, "token": token_group,
    "schedule": schedule_group, "published": published_group,
}.items():
    main.add_command(_command, _name)
