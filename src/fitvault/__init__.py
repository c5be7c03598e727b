"""fitvault: all of your Fitbit / Google Health data in one local DuckDB vault.

>>> import fitvault
>>> vault = fitvault.open()          # $FITVAULT_HOME or the user data directory
>>> vault.sync()                     # after `fitvault auth`
>>> vault.heart_rate("2026-11-01")   # a pandas DataFrame with tz-aware timestamps
"""

import importlib
from typing import TYPE_CHECKING, Any

from fitvault._errors import (
    AccountNotLinked,
    ApiError,
    ApiUnavailable,
    AuthError,
    AuthFlowError,
    ConfigError,
    DataError,
    FitvaultError,
    PermissionDenied,
    QuotaExhausted,
    RefreshTokenExpired,
    VaultError,
    VaultLocked,
)

if TYPE_CHECKING:
    from fitvault.sync import SyncProgress, SyncReport
    from fitvault.vault import Vault, default_directory, open

__version__ = "0.1.0"

_LAZY = {
    "SyncProgress": "fitvault.sync",
    "SyncReport": "fitvault.sync",
    "Vault": "fitvault.vault",
    "default_directory": "fitvault.vault",
    "open": "fitvault.vault",
}


def __getattr__(name: str) -> Any:
    """The API's names load their modules (Arrow, DuckDB) on first use: the command line sets
    Arrow's allocator before anything imports Arrow (fitvault.cli)."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AccountNotLinked",
    "ApiError",
    "ApiUnavailable",
    "AuthError",
    "AuthFlowError",
    "ConfigError",
    "DataError",
    "FitvaultError",
    "PermissionDenied",
    "QuotaExhausted",
    "RefreshTokenExpired",
    "SyncProgress",
    "SyncReport",
    "Vault",
    "VaultError",
    "VaultLocked",
    "default_directory",
    "open",
]
