"""azureml.train.automl: refused when imported (AutoML is a hosted Azure service).

AML code that imports it is AutoML code, so the refusal comes at the import, in one line
naming the nearest kubeline way (docs/aml-compat.md). ``AutoMLConfig`` stays importable from
``kubeline`` and ``azureml.pipeline.steps`` users get ``AutoMLStep``, refused when created.
"""

from __future__ import annotations

from kubeline.dsl.unsupported import refuse_module

refuse_module("azureml.train.automl (AutoMLConfig)", "AutoMLConfig")
