"""The error every invalid setting raises, wherever it was read."""

from __future__ import annotations

import json


class VaultInitConfigError(ValueError):
    """An invalid setting: names the key, the value, where it came from and the fix."""

    def __init__(self, key: str, value: object, origin: str, fix: str) -> None:
        self.key = key
        self.value = value
        self.origin = origin
        self.fix = fix
        shown = value if isinstance(value, str) else json.dumps(value, default=str)
        if len(shown) > 200:
            shown = shown[:200] + "..."
        super().__init__(f"Invalid Vault init setting {origin}: {shown!r}. {fix}")
