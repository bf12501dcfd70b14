"""What the compiler takes from a pipeline the user built: its name, its graph and the
settings of its workspace, as data. The user API's Pipeline is one; the compiler never
imports the user API (docs/decisions/0033-one-way-imports.md)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kubeline.graph.model import PipelineGraph
    from kubeline.workspace.settings import WorkspaceSettings


class PipelineSource(ABC):
    """A pipeline to compile; a file's module-level instances are its pipelines."""

    name: str
    workspace: WorkspaceSettings

    @abstractmethod
    def graph(self) -> PipelineGraph:
        """The validated pipeline graph (raises one line per problem)."""
