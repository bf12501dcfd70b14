"""Running kubeline pipelines on a Kubernetes cluster with Argo Workflows: connect, check,
submit, follow, record in the run history, pod-free reuse (docs/cluster.md, "Submitting runs")."""
