"""docs/aml-compat.md lists every class and function of the azureml tree, supported or refused,
as the code has them: the list is generated (scripts/aml_compat_page.py) and this test fails
when the page and the code disagree."""

from __future__ import annotations

from pathlib import Path

from scripts import aml_compat_page as page


def test_the_page_lists_what_the_code_has() -> None:
    written = page.page_block(page.PAGE.read_text(encoding="utf-8"))
    assert written, f"{page.PAGE} lost its generated block's markers"
    assert written == page.render(), (
        "docs/aml-compat.md's list of classes differs from the code: run "
        "python scripts/aml_compat_page.py --write")


def test_supported_and_refused_come_from_the_code(tmp_path: Path) -> None:
    entries, refused_modules = page.collect()
    by_name = {e.name: e for e in entries}
    # refused where created: carries the advice it refuses with
    assert by_name["AutoMLStep"].refused.startswith("Azure AutoML is a hosted service")
    assert by_name["BayesianParameterSampling"].refused
    # supported, importable from each path the SDK has
    run = by_name["HyperDriveRun"]
    assert not run.refused and run.paths == ["azureml.train.hyperdrive"]
    assert run.refused_members > 0  # Run-history members it answers in one line
    assert by_name["Run"].paths[:2] == ["azureml.core", "azureml.core.run"]
    assert dict(refused_modules)["azureml.train.automl"].startswith(
        "azureml.train.automl (AutoMLConfig) is not supported by kubeline")
    # a page whose list is stale is rewritten, and only its block changes
    stale = tmp_path / "aml-compat.md"
    stale.write_text(f"# head\n\n{page.BEGIN}\n| `Gone` | class |\n{page.END}\n\ntail\n",
                     encoding="utf-8")
    assert page.write(stale) is True
    text = stale.read_text(encoding="utf-8")
    assert text.startswith("# head\n\n") and text.endswith("\ntail\n")
    assert "`Gone`" not in text and "| `HyperDriveRun` | class |" in text
    assert page.write(stale) is False
