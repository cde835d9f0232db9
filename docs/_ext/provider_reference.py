"""Sphinx extension: the `[vault_init]` and `vault.airflow/*` reference, written from the code.

A MyST comment line such as `% generated: options-table` marks where a generated block goes.
On every build the line is replaced by Markdown built from
`get_provider_info()["config"]` (the same data Airflow registers) and from the
annotation rules in `options.py` and `contract.py`, so the pages cannot drift from the code.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from airflow_vault_provider import contract
from airflow_vault_provider.get_provider_info import get_provider_info
from airflow_vault_provider.options import DEPLOYMENT_ONLY, SECTION, annotation_for

_MARKER = "% generated: "


def _cell(text: str) -> str:
    """Return ``text`` safe for one cell of a Markdown table."""
    return " ".join(text.split()).replace("|", "\\|")


def _code(text: str) -> str:
    return f"`{text}`" if text else "(empty)"


def _options() -> dict[str, dict[str, Any]]:
    options: dict[str, dict[str, Any]] = get_provider_info()["config"][SECTION]["options"]
    return options


def _default(option: dict[str, Any]) -> str:
    # get_provider_info doubles braces because Airflow formats defaults with str.format;
    # the value a user gets has single braces.
    return str(option["default"]).replace("{{", "{").replace("}}", "}")


def _environment_variable(key: str) -> str:
    return f"AIRFLOW__{SECTION.upper()}__{key.upper()}"


def _annotation(key: str) -> str:
    return "none: deployment only" if key in DEPLOYMENT_ONLY else f"`{annotation_for(key)}`"


def options_table() -> str:
    """Return one row per `[vault_init]` option: key, type, default and annotation."""
    rows = ["| Key | Type | Default | Pod annotation |", "|---|---|---|---|"]
    for key, option in _options().items():
        rows.append(
            f"| [`{key}`](#option-{key.replace('_', '-')}) | {option['type']} | "
            f"{_cell(_code(_default(option)))} | {_annotation(key)} |"
        )
    return "\n".join(rows)


def options_details() -> str:
    """Return a section per option with its description, default, example and names."""
    blocks = []
    for key, option in _options().items():
        lines = [
            f"(option-{key.replace('_', '-')})=",
            f"### `{key}`",
            "",
            " ".join(option["description"].split()),
            "",
            "| | |",
            "|---|---|",
            f"| Type | {option['type']} |",
            f"| Default | {_cell(_code(_default(option)))} |",
        ]
        if option.get("example"):
            lines.append(f"| Example | {_cell(_code(option['example']))} |")
        lines += [
            f"| Environment variable | `{_environment_variable(key)}` |",
            f"| Pod annotation | {_annotation(key)} |",
            f"| Since | {option['version_added']} |",
            "",
        ]
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def annotations_table() -> str:
    """Return every annotation under the `vault.airflow/` prefix, with who writes it."""
    rows = ["| Annotation | Written by | Effect |", "|---|---|---|"]
    rows.append(
        f"| `{contract.ANNOTATION_INJECT}` | you | `\"true\"` or `\"false\"`: add `{contract.INIT_CONTAINER_NAME}` "
        "to this pod or leave the pod untouched, whatever `inject_by_default` says. With `enabled = False` "
        "the executor and the hook inject into no pod at all. |"
    )
    for key in _options():
        if key in DEPLOYMENT_ONLY:
            continue
        rows.append(
            f"| `{annotation_for(key)}` | you | Overrides [`{key}`](configuration.md#option-{key.replace('_', '-')}) "
            "for this pod; same value format. |"
        )
    secret = contract.ANNOTATION_PREFIX + "secret-"
    rows += [
        f"| `{secret}<file>` | you | Renders the secret at this Vault path into `<file>` next to the token. |",
        f"| `{secret}<file>-format` | you | `json` (default), `env` or `raw` for that file. |",
        f"| `{secret}<file>-key` | you | The key whose value a `raw` file holds; required for `raw`. |",
        f"| `{contract.ANNOTATION_STATUS}` | the injector | `{contract.STATUS_INJECTED}` once "
        f"`{contract.INIT_CONTAINER_NAME}` is in the pod; a pod marked so is not injected again. |",
        f"| `{contract.ANNOTATION_CONFIG_HASH}` | the injector | A digest of the settings used for this pod, "
        "to compare two pods' settings without reading them. |",
    ]
    return "\n".join(rows)


GENERATORS: dict[str, Callable[[], str]] = {
    "options-table": options_table,
    "options-details": options_details,
    "annotations-table": annotations_table,
}


def fill_generated_blocks(app: Any, docname: str, source: list[str]) -> None:
    """Replace each `% generated: NAME` line of a page with the block NAME."""
    lines = []
    for line in source[0].splitlines():
        if line.startswith(_MARKER):
            name = line[len(_MARKER) :].strip()
            if name not in GENERATORS:
                raise ValueError(
                    f"{docname}: unknown generated block {name!r}; known: {', '.join(GENERATORS)}."
                )
            lines.append(GENERATORS[name]())
        else:
            lines.append(line)
    source[0] = "\n".join(lines) + "\n"


def pages_with_generated_blocks(app: Any, env: Any, added: set[str], changed: set[str], removed: set[str]) -> list[str]:
    """Reread the pages with generated blocks on every build, since the code may have changed."""
    pages = []
    for docname in env.found_docs:
        source = Path(env.doc2path(docname))
        if _MARKER in source.read_text(encoding="utf-8"):
            pages.append(docname)
    return pages


def setup(app: Any) -> dict[str, Any]:
    app.connect("source-read", fill_generated_blocks)
    app.connect("env-get-outdated", pages_with_generated_blocks)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
