"""The refused SDK members are derived, not hand-listed: kubeline/aml_surface/sdk_members.py
(generated from Microsoft's SDK by scripts/aml_parity.py) minus what each kubeline class
implements, with the class's advice from kubeline/aml_surface/data.py."""

from __future__ import annotations

import pytest

from kubeline.aml_surface import data
from kubeline.aml_surface.checker import REFUSED_ATTR, RefusedMember, Surface, aml_surface
from kubeline.aml_surface.sdk_members import SDK_MEMBERS
from kubeline.azureml.core import Experiment, Workspace
from kubeline.azureml.pipeline.core import PipelineRun


def test_the_members_file_is_what_the_sdk_has() -> None:
    """Regenerated from the SDK's own virtualenv (scripts/aml_parity.py installs it once)."""
    from scripts import aml_parity

    sdk = aml_parity.introspect(aml_parity.sdk_python(), aml_parity.surface(), kubeline=False)
    assert aml_parity.members_text(sdk) == aml_parity.MEMBERS_FILE.read_text(
        encoding="utf-8"), "run python scripts/aml_parity.py --write-members"


@pytest.mark.parametrize("cls", [Workspace, Experiment, PipelineRun])
def test_every_sdk_member_is_implemented_or_refused_with_the_class_advice(cls: type) -> None:
    advice, special = data.MEMBER_ADVICE[cls.__name__]
    for member, kind in SDK_MEMBERS[cls.__name__].items():
        raw = next((vars(k)[member] for k in cls.__mro__ if member in vars(k)), None)
        refused = getattr(raw, REFUSED_ATTR, None)
        if refused:
            assert refused == special.get(member, advice), member
            assert (type(raw).__name__ == "RefusedAttribute") == (kind == "property"), member
        else:  # implemented: a method, a property or a declared instance attribute
            assert raw is not None or any(member in getattr(k, "__annotations__", {})
                                          for k in cls.__mro__), member
    with pytest.raises(RefusedMember, match=r"^Workspace.list_keys is not supported"):
        Workspace.list_keys()


def test_the_decorator_stubs_only_what_the_class_lacks() -> None:
    class Base:
        def inherited(self) -> str:
            return "base"

    @aml_surface(Surface(members={"inherited": "x", "declared": "x", "lacking": "use y",
                                  "prop": "use z"}, properties=frozenset({"prop"})))
    class Child(Base):
        declared: int

        def __init__(self) -> None:
            self.declared = 1

    child = Child()
    assert child.inherited() == "base" and child.declared == 1
    with pytest.raises(RefusedMember, match=r"Child.lacking is not supported by kubeline \(use y"):
        child.lacking()  # type: ignore[attr-defined]
    with pytest.raises(RefusedMember, match=r"Child.prop is not supported"):
        _ = child.prop  # type: ignore[attr-defined]
    assert data.surface("NoSuchClass").members == {}
