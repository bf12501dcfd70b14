"""azureml_user: The ``azureml_user`` package of ParallelRunStep entry scripts."""

from __future__ import annotations
