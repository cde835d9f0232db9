"""Names shared by the pod injector and the init program.

The injector writes these into the pod spec and the init program reads them from its
environment, so both sides import them from here. This module must stay free of Airflow
and Kubernetes imports: the init program imports it at start-up in every task pod.
"""

from __future__ import annotations

# Pod pieces added by the injector, reconciled by these names.
INIT_CONTAINER_NAME = "vault-init"
SECRETS_VOLUME_NAME = "vault-secrets"
SA_TOKEN_VOLUME_NAME = "vault-sa-token"
CA_VOLUME_NAME = "vault-ca"

# Mount points of the identity and CA files inside `vault-init`.
SA_TOKEN_DIR = "/var/run/secrets/vault.airflow/serviceaccount"
SA_TOKEN_FILE_NAME = "token"
CA_DIR = "/var/run/secrets/vault.airflow/ca"
CA_FILE_NAME = "ca.crt"

# Annotation prefix for per-pod settings, and the keys the injector owns.
ANNOTATION_PREFIX = "vault.airflow/"
ANNOTATION_INJECT = ANNOTATION_PREFIX + "inject"
ANNOTATION_STATUS = ANNOTATION_PREFIX + "status"
ANNOTATION_CONFIG_HASH = ANNOTATION_PREFIX + "config-hash"
STATUS_INJECTED = "injected"

# Environment of the task containers: what the task and Airflow's hashicorp provider read.
ENV_VAULT_ADDR = "VAULT_ADDR"
ENV_VAULT_NAMESPACE = "VAULT_NAMESPACE"
ENV_VAULT_CACERT = "VAULT_CACERT"
ENV_VAULT_TOKEN_FILE = "VAULT_TOKEN_FILE"

# Environment of `vault-init`: the whole input of the init program.
ENV_TLS_SERVER_NAME = "VAULT_TLS_SERVER_NAME"
ENV_AUTH_METHOD = "VAULT_INIT_AUTH_METHOD"
ENV_AUTH_PATH = "VAULT_INIT_AUTH_PATH"
ENV_ROLE = "VAULT_INIT_ROLE"
ENV_JWT_FILE = "VAULT_INIT_JWT_FILE"
ENV_APPROLE_ROLE_ID = "VAULT_INIT_APPROLE_ROLE_ID"
ENV_APPROLE_SECRET_ID = "VAULT_INIT_APPROLE_SECRET_ID"
ENV_APPROLE_SECRET_ID_FILE = "VAULT_INIT_APPROLE_SECRET_ID_FILE"
# `true`, `false` or `auto` (the default): whether the secret id is a response-wrapping token.
ENV_APPROLE_SECRET_ID_WRAPPED = "VAULT_INIT_APPROLE_SECRET_ID_WRAPPED"
ENV_OUTPUT_DIR = "VAULT_INIT_OUTPUT_DIR"
ENV_TOKEN_FILE = "VAULT_INIT_TOKEN_FILE"
ENV_SECRETS = "VAULT_INIT_SECRETS"
ENV_TIMEOUT_SECONDS = "VAULT_INIT_TIMEOUT_SECONDS"
ENV_REQUEST_TIMEOUT_SECONDS = "VAULT_INIT_REQUEST_TIMEOUT_SECONDS"
ENV_TERMINATION_LOG = "VAULT_INIT_TERMINATION_LOG"

# Files the init program writes next to the token, besides the requested secrets.
TOKEN_INFO_FILE_NAME = "token-info.json"
DEFAULT_TERMINATION_LOG = "/dev/termination-log"

AUTH_METHODS = ("kubernetes", "jwt", "approle")
SECRET_FORMATS = ("json", "env", "raw")
