"""fitvault: all of your Fitbit / Google Health data in one local DuckDB vault.

>>> import fitvault
>>> vault = fitvault.open()          # $FITVAULT_HOME or the user data directory
>>> vault.sync()                     # after `fitvault auth`
>>> vault.heart_rate("2026-11-01")   # a pandas DataFrame with tz-aware timestamps
"""

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
from fitvault.sync import SyncProgress, SyncReport
from fitvault.vault import Vault, default_directory, open

__version__ = "0.1.0"

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
