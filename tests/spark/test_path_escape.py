"""The Spark driver (which cannot import kubeline) refuses datastore paths that climb out,
as kubeline.datapaths does: Hadoop's Path would resolve '..' against the datastore URI."""

from __future__ import annotations

import pytest

from kubeline.compiler.spark_driver import Driver


def _driver() -> Driver:
    driver = Driver.__new__(Driver)  # no SparkSession: uri() only reads the context
    driver.ctx = {"stores": {"lake": {"uri": "s3a://bucket/team"}}}
    return driver


@pytest.mark.parametrize("path", ["../other", "in/../../x", "..", "in\\..\\x", "a\x00b"])
def test_paths_leaving_the_datastore_are_refused(path: str) -> None:
    with pytest.raises(ValueError, match=r"datastore 'lake': path .* could leave the datastore"):
        _driver().uri("lake", path)


@pytest.mark.parametrize(("path", "uri"), [("", "s3a://bucket/team"),
                                           ("in/set", "s3a://bucket/team/in/set"),
                                           ("/in/x..y/", "s3a://bucket/team/in/x..y")])
def test_paths_inside_are_joined(path: str, uri: str) -> None:
    assert _driver().uri("lake", path) == uri
