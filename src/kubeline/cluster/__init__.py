"""kubeline on a Kubernetes cluster: submission, following runs, pod-free reuse."""
