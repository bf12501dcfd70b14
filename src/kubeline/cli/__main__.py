"""``python -m kubeline.cli``: the ``kubeline`` command."""

from kubeline.cli.app import main

main()
