"""The admins' data platform forms: CSRF and raw input only; `PlatformInput` validates."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.widgets import URLInput


class PlatformForm(FlaskForm):
    name = StringField("Name", id="platform-name", description="The system that enforces access, e.g. "
                                                              "“Leiden secure research environment”.")
    webhook_url = StringField("Webhook URL", widget=URLInput(),
                              description="Optional. Harmony posts signed events here when a grant starts, ends "
                                          "or is revoked. Leave empty for a platform that only reads the API.")

    def platform_input(self) -> dict[str, Any]:
        return {"name": self.name.data or "", "webhook_url": (self.webhook_url.data or "").strip() or None}


class RevokeForm(FlaskForm):
    """A button: revoke the platform's token and stop its webhooks."""
