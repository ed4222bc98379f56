"""/admin/platforms: the admins list data platforms, register one (its service token and webhook secret
are shown once, on the page that answers the registration) and revoke one after a confirmation."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for

from harmony.accounts.current import login_required, principal
from harmony.errors import Conflict, PermissionDenied, ValidationError
from harmony.platforms import forms, tokens, webhooks
from harmony.validation import apply_errors, parse

platforms = Blueprint("platforms", __name__)


def _require_admin() -> None:
    if not tokens.can_manage_platforms(principal()):
        raise PermissionDenied("Only admins manage data platforms.")


def _page(form: forms.PlatformForm, status: int = 200, created=None, token: str | None = None):
    rows = [(platform, webhooks.pending_count(platform.id)) for platform in tokens.platforms()]
    response = render_template("platforms/platforms.html", rows=rows, form=form, created=created, token=token)
    return response, status, {"Cache-Control": "no-store"}


@platforms.get("/admin/platforms")
@login_required
def admin_platforms():
    _require_admin()
    return _page(forms.PlatformForm(formdata=None))


@platforms.post("/admin/platforms")
@login_required
def register_platform():
    _require_admin()
    form = forms.PlatformForm()
    if not form.validate():  # the CSRF token
        return _page(form, 400)
    try:
        created, token = tokens.register_platform(principal(), parse(tokens.PlatformInput, form.platform_input()))
    except ValidationError as error:
        apply_errors(form, error)
        return _page(form, 422)
    except Conflict as error:
        form.name.errors = [*form.name.errors, error.detail]
        return _page(form, 409)
    return _page(forms.PlatformForm(formdata=None), 201, created=created, token=token)


@platforms.route("/admin/platforms/<int:platform_id>/revoke", methods=["GET", "POST"])
@login_required
def revoke_platform(platform_id: int):
    _require_admin()
    platform = tokens.get_platform(platform_id)
    form = forms.RevokeForm()
    if form.validate_on_submit():
        tokens.revoke_platform(principal(), platform.name)
        flash(f"{platform.name} is revoked: its service token no longer works and it gets no more webhooks.",
              "success")
        return redirect(url_for(".admin_platforms"))
    return render_template("platforms/revoke.html", platform=platform, form=form,
                           pending=webhooks.pending_count(platform.id))
