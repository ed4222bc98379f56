"""Every table of every package, imported in one place so that Alembic sees the whole schema."""

from harmony.accounts.models import ApiToken, Identity, LoginState, RoleGrant, User, UserSession
from harmony.catalog.models import Dataset, DatasetVersion, StudyGroup
from harmony.db import ChangeLog, metadata

__all__ = [
    "ApiToken", "ChangeLog", "Dataset", "DatasetVersion", "Identity", "LoginState", "RoleGrant", "StudyGroup",
    "User", "UserSession", "metadata",
]
