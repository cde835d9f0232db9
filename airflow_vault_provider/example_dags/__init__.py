"""Example DAGs for the executor, the operator and the pod mutation hook (used by the docs and the demo)."""
