"""azureml.data.sql_data_reference: SqlDataReference (refused: SQL databases are not datastores)."""

from __future__ import annotations

from kubeline.dsl.unsupported import (
    SqlDataReference as SqlDataReference,
)

__all__ = [
    "SqlDataReference",
]
