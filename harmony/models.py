"""Every table of every package, imported in one place so that Alembic sees the whole schema."""

from harmony.access_requests.models import (
    Attachment,
    BasketItem,
    CoApplicant,
    Committee,
    CommitteeAgreement,
    Proposal,
    ProposalDataset,
    ProposalEvent,
    Question,
    Recusal,
    Review,
    Vote,
)
from harmony.accounts.models import ApiToken, Identity, LoginState, RoleGrant, User, UserSession
from harmony.catalog.models import Dataset, DatasetVersion, StudyGroup
from harmony.db import ChangeLog, metadata
from harmony.notifications.models import Notice, OutboxMail

__all__ = [
    "ApiToken", "Attachment", "BasketItem", "ChangeLog", "CoApplicant", "Committee", "CommitteeAgreement", "Dataset",
    "DatasetVersion", "Identity", "LoginState", "Notice", "OutboxMail", "Proposal", "ProposalDataset", "ProposalEvent",
    "Question", "Recusal", "Review", "RoleGrant", "StudyGroup", "User", "UserSession", "Vote", "metadata",
]
