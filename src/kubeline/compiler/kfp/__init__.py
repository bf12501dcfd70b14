"""The Kubeflow Pipelines v2 backend: the same PipelineGraph as KFP's PipelineSpec (IR YAML)."""
