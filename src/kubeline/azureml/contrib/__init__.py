"""azureml.contrib: Contributed packages."""

from __future__ import annotations
