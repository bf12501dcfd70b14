"""StepSequence: steps (or lists of steps) that run one after another (the SDK's class)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kubeline.aml_surface.checker import aml_surface
from kubeline.aml_surface.data import surface
from kubeline.dsl.steps import PipelineStep
from kubeline.exceptions import KubelineError


@aml_surface(surface("StepSequence"))
class StepSequence:
    """``StepSequence(steps=[a, [b, c], d])``: b and c run after a, d after both.

    Items may be steps, lists of steps or other StepSequences; the order is added with
    ``run_after`` when a Pipeline is built from the sequence, as the SDK does.
    """

    def __init__(self, steps: Sequence[Any] | None = None) -> None:
        if steps is None or isinstance(steps, (str, bytes)) or not isinstance(steps, Sequence):
            raise KubelineError("StepSequence: steps must be a list of steps or lists of steps",
                                "write StepSequence(steps=[step1, step2])")
        self._groups = [self._group(item) for item in steps]

    @staticmethod
    def _group(item: Any) -> list[Any]:
        if isinstance(item, (PipelineStep, StepSequence)):
            return [item]
        if isinstance(item, (list, tuple)) and all(
                isinstance(i, (PipelineStep, StepSequence, list, tuple)) for i in item):
            return list(item)
        raise KubelineError(f"StepSequence: {item!r} is not a step or a list of steps",
                            "pass PythonScriptStep/CommandStep objects (or lists of them)")

    @property
    def steps(self) -> list[PipelineStep]:
        """Every step, in sequence order (ordering links added)."""
        from kubeline.dsl.pipeline import flatten_steps

        self.link()
        return flatten_steps(self._groups)

    def link(self) -> None:
        """Make every step of a group run after every step of the group before it."""
        from kubeline.dsl.pipeline import flatten_steps

        previous: list[PipelineStep] = []
        for group in self._groups:
            current = flatten_steps(group)
            for step in current:
                for before in previous:
                    if before not in step._run_after:
                        step.run_after(before)
            previous = current or previous

    def __repr__(self) -> str:
        return f"StepSequence({[s.name for s in self.steps]!r})"
