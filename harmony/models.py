"""Every table of every package, imported in one place so that Alembic sees the whole schema."""

from harmony.access_requests.models import (
    AgreementAcceptance,
    Attachment,
    BasketItem,
    CoApplicant,
    Committee,
    CommitteeAgreement,
    FinalReport,
    Grant,
    Proposal,
    ProposalDataset,
    ProposalEvent,
    Question,
    Recusal,
    Review,
    SentReminder,
    Vote,
)
from harmony.accounts.models import ApiToken, Identity, LoginState, RoleGrant, User, UserSession
from harmony.catalog.models import Dataset, DatasetVersion, StudyGroup
from harmony.db import ChangeLog, metadata
from harmony.notifications.models import Notice, OutboxMail
from harmony.platforms.models import DataPlatform, WebhookDelivery

__all__ = [
    "AgreementAcceptance", "ApiToken", "Attachment", "BasketItem", "ChangeLog", "CoApplicant", "Committee",
    "CommitteeAgreement", "DataPlatform", "Dataset", "DatasetVersion", "FinalReport", "Grant", "Identity", "LoginState",
    "Notice", "OutboxMail", "Proposal", "ProposalDataset", "ProposalEvent", "Question", "Recusal", "Review", "RoleGrant",
    "SentReminder", "StudyGroup", "User", "UserSession", "Vote", "WebhookDelivery", "metadata",
]
