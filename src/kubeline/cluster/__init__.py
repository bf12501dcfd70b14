"""Running kubeline pipelines on a Kubernetes cluster with Argo Workflows: connect, check,
submit, follow, record in the run history (docs/cluster.md, "Submitting runs")."""
