"""Run's AML signature checks load on first misuse, not when a step imports Run: each case
runs in a fresh interpreter (the checks are applied once per process)."""

from __future__ import annotations

import subprocess
import sys

import pytest

CHECKS = "kubeline.aml_surface.checker"


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_step_that_logs_does_not_load_the_checks() -> None:
    out = _python(
        "import sys\n"
        "from kubeline import Run\n"
        "run = Run.get_context()\n"
        "run.log('accuracy', 0.9)\n"
        "run.get_metrics()\n"
        f"print({CHECKS!r} in sys.modules, 'kubeline.dsl' in sys.modules)\n")
    assert out.splitlines()[-1] == "False False"


@pytest.mark.parametrize(("misuse", "message"), [
    ("Run.list()", "RefusedMember: Run.list is not supported by kubeline"),
    ("Run.get_context().status", "RefusedMember: Run.status is not supported by kubeline"),
    ("Run.get_context().get_metrics(recursive=True)",
     "RefusedArgument: Run.get_metrics: argument 'recursive' is not supported by kubeline"),
    ("Run.get_context(bogus=1)",
     "ArgumentError: Run.get_context: unknown argument 'bogus' (accepted: allow_offline)"),
    ("Run.get_context(allow_offline='no')",
     "ArgumentError: Run.get_context: allow_offline must be bool, not str ('no')"),
])
def test_the_first_misuse_is_refused_in_one_line(misuse: str, message: str) -> None:
    out = _python(
        "from kubeline import Run\n"
        "try:\n"
        f"    {misuse}\n"
        "except Exception as exc:\n"
        "    print(f'{type(exc).__name__}: {exc}')\n")
    assert out.startswith(message), out


def test_a_member_run_lacks_is_still_an_attribute_error() -> None:
    out = _python(
        "from kubeline import Run\n"
        "for target in (Run, Run.get_context()):\n"
        "    try:\n"
        "        target.no_such_member\n"
        "    except AttributeError as exc:\n"
        "        print(exc)\n")
    assert out.splitlines() == ["type object 'Run' has no attribute 'no_such_member'",
                                "'_OfflineRun' object has no attribute 'no_such_member'"]


def test_the_azureml_package_applies_them_on_import() -> None:
    out = _python(
        "import sys\n"
        "import kubeline.azureml.core\n"
        "from kubeline.runtime.run import Run\n"
        "print(sorted(Run.get_metrics.__kubeline_refused_params__),\n"
        f"      {CHECKS!r} in sys.modules)\n")
    assert out == "['recursive', 'run_type'] True"
