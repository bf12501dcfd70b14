"""kubeline.dsl: the user-facing pipeline API.

Loading it makes an uncaught kubeline error end a plain ``python pipeline.py`` with its one
line instead of a traceback, as the CLI does.
"""

from kubeline.exceptions import install_one_line_hook

install_one_line_hook()
