"""The Kubernetes executor entry point: `VaultKubernetesExecutor` and its pod-building hook."""
