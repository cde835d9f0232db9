"""The `vault-init` program: log in to Vault, write the token and the requested secrets, exit.

It runs in every task pod before the task starts, so it imports neither Airflow nor
Kubernetes, and talks to Vault through the standard library's HTTP client. Run it with
``python -m airflow_vault_provider.init``. This module imports nothing.
"""
