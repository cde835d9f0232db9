"""`airflow vault-init`: render a task's worker pod and check `[vault_init]` against Vault."""
