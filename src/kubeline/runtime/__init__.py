"""The runtime shim (``python3 -m kubeline.runtime``) and the ``Run`` context of a step.

Nothing is imported here: the shim's startup cost is paid per step, and ``kubeline.Run``
inside a user script must not pull in the shim's modules. See docs/runtime.md.
"""
