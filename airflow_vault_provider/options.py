"""The `[vault_init]` options: one table for provider registration, docs and parsing.

Pure data. `get_provider_info` imports this module on every Airflow CLI call, so it must
not import anything heavier than the standard library.
"""

from __future__ import annotations

SECTION = "vault_init"
VERSION_ADDED = "0.1.0"

# Options that only the deployment decides; a pod annotation may not change them.
DEPLOYMENT_ONLY = frozenset({"enabled", "inject_by_default"})

# Options registered as sensitive. Airflow reads the `_cmd` and `_secret` forms of an option
# only when it is sensitive, and it also masks a sensitive option's value in every log line.
# A deployment keeps the AppRole identifiers in a secrets backend. The address and the role
# stay plain, because masking them would hide common words such as a role name.
SENSITIVE = frozenset({"approle_role_id", "approle_secret_id_secret"})

DEFAULT_COMMAND = '["python", "-m", "airflow_vault_provider.init"]'
DEFAULT_RESOURCES = '{"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "128Mi"}}'

# name -> (type, default, example, description). Defaults are strings, as Airflow stores them.
OPTIONS: dict[str, tuple[str, str, str | None, str]] = {
    "enabled": (
        "boolean",
        "True",
        None,
        "Master switch. When False, neither the executor nor the pod mutation hook edits pods.",
    ),
    "inject_by_default": (
        "boolean",
        "True",
        None,
        'Inject into every pod unless it is annotated `vault.airflow/inject: "false"`. '
        'When False, only pods annotated `vault.airflow/inject: "true"` get the init container.',
    ),
    "vault_addr": (
        "string",
        "",
        "https://vault.vault.svc:8200",
        "Vault address as seen from inside the task pod. Required.",
    ),
    "vault_namespace": (
        "string",
        "",
        "team-a",
        "Vault Enterprise or OpenBao namespace. Empty means the root namespace.",
    ),
    "ca_cert_secret": (
        "string",
        "",
        "vault-ca",
        "Name of a Kubernetes Secret in the pod's namespace holding the CA bundle under "
        "`ca.crt`. Empty means the image's system CA store.",
    ),
    "tls_server_name": (
        "string",
        "",
        "vault.example.com",
        "Server name to verify in Vault's TLS certificate, when it differs from the address.",
    ),
    "auth_method": (
        "string",
        "kubernetes",
        "jwt",
        "Login method of the init program: `kubernetes`, `jwt` or `approle`.",
    ),
    "auth_path": (
        "string",
        "",
        "kubernetes-prod",
        "Mount path of the auth method in Vault. Empty means the method's own name.",
    ),
    "role": (
        "string",
        "",
        "airflow-worker",
        "Vault role to log in with, for the `kubernetes` and `jwt` methods.",
    ),
    "token_audience": (
        "string",
        "vault",
        None,
        "Audience of the projected service-account token that `vault-init` presents.",
    ),
    "token_expiration_seconds": (
        "integer",
        "600",
        None,
        "Lifetime of the projected service-account token; Kubernetes requires at least 600.",
    ),
    "approle_role_id": (
        "string",
        "",
        "4f0d6f2e-6b3a-4d0c-9d55-2a1f3f0c9a11",
        "AppRole role id, for the `approle` method. An identifier, not a secret.",
    ),
    "approle_secret_id_secret": (
        "string",
        "",
        "airflow-approle/secret-id",
        "`NAME/KEY` of a Kubernetes Secret key holding the AppRole secret id, or a "
        "response-wrapping token for one. Only this reference enters the pod spec.",
    ),
    "image": (
        "string",
        "",
        "registry.example.com/airflow:2.11.0-vault",
        "Image of `vault-init`. Empty means the Airflow worker image "
        "(`[kubernetes_executor] worker_container_repository:worker_container_tag`); "
        "it must contain this provider.",
    ),
    "image_pull_policy": (
        "string",
        "IfNotPresent",
        "Always",
        "Pull policy of `vault-init`: `Always`, `IfNotPresent` or `Never`.",
    ),
    "command": (
        "string",
        DEFAULT_COMMAND,
        None,
        "Command of `vault-init`, as a JSON list of strings.",
    ),
    "mount_path": (
        "string",
        "/vault/secrets",
        None,
        "Where the shared in-memory volume is mounted, in `vault-init` and the task containers.",
    ),
    "token_file": (
        "string",
        "token",
        None,
        "File name of the Vault token inside `mount_path`.",
    ),
    "secrets": (
        "string",
        "{}",
        '{"db.json": "secret/data/team/db", "api.env": {"path": "secret/data/team/api", "format": "env"}}',
        "Secrets to render, as a JSON object: file name to secret path, or to an object with "
        "`path`, `format` (`json`, `env` or `raw`) and `key` (required for `raw`).",
    ),
    "init_first": (
        "boolean",
        "True",
        None,
        "Place `vault-init` before the other init containers, so they can use the token. When False it runs last.",
    ),
    "target_containers": (
        "string",
        "base",
        "base,log-shipper",
        "Containers that get the volume and the Vault environment: `base` (the task "
        "container), `all` (every regular container), or a comma-separated list of names.",
    ),
    "resources": (
        "string",
        DEFAULT_RESOURCES,
        None,
        "Resources of `vault-init`, as a JSON object with `requests` and `limits`.",
    ),
    "run_as_user": (
        "integer",
        "",
        "50000",
        "User id of `vault-init`. Empty means the task container's, or the image's own "
        "non-root user when the task container runs as root.",
    ),
    "run_as_group": (
        "integer",
        "",
        "0",
        "Group id of `vault-init`. Empty means the task container's.",
    ),
    "volume_size_limit": (
        "string",
        "1Mi",
        None,
        "`sizeLimit` of the in-memory volume that holds the token and the secrets.",
    ),
    "login_timeout_seconds": (
        "integer",
        "120",
        None,
        "Deadline of the init program: how long it retries while Vault is unreachable.",
    ),
}


def annotation_for(option: str) -> str:
    """Return the pod annotation that overrides ``option``."""
    return "vault.airflow/" + option.replace("_", "-")
