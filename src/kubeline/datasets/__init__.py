"""Datasets: definitions over datastore paths, their files, tables and registry.

Beside ``kubeline.stores`` in the layers: the user API (``kubeline.dsl.dataset``,
``kubeline.dsl.output_dataset``) and the runtime shim (``kubeline.runtime.datasets``) both
import it; it imports neither (docs/decisions/0029-datasets.md, docs/datasets.md).
"""
