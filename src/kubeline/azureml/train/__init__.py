"""azureml.train: Training."""

from __future__ import annotations
