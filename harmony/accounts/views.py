"""Sign-in and sign-out, the account page, and the admin's role page."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for

from harmony import clock
from harmony.accounts import current, oidc, permissions, scopes, services
from harmony.accounts.current import SESSION_KEY, login_required, principal
from harmony.accounts.forms import GrantForm, ProfileForm, RevokeForm, TokenForm
from harmony.accounts.models import ROLE_SCOPES
from harmony.demo.personas import PERSONAS
from harmony.errors import PermissionDenied, ValidationError
from harmony.validation import apply_errors, parse

log = logging.getLogger(__name__)
accounts = Blueprint("accounts", __name__)

LOGIN_ATTEMPT = "login_state"


def oidc_client() -> oidc.OidcClient | None:
    return current_app.extensions.get("harmony.oidc")


def _sign_in_problem(reason: str, message: str, status: int = 400):
    log.warning("sign-in refused: reason=%s", reason)
    return render_template("accounts/sign_in_problem.html", message=message,
                           retry_url=url_for("accounts.login", go=1)), status


@accounts.get("/auth/login")
def login():
    client = oidc_client()
    next_path = current.safe_next(request.args.get("next"))
    if client is None:
        return render_template("accounts/sign_in_unavailable.html"), 503
    if current_app.config["DEMO"] and not request.args.get("go"):
        return render_template("accounts/demo_login.html", personas=PERSONAS,
                               next_path=next_path)
    try:
        auth = client.authorization_request()
    except oidc.SignInError as error:
        return _sign_in_problem(error.reason, error.message, 502)
    services.remember_login(auth.state, auth.nonce, auth.code_verifier, next_path)
    session[LOGIN_ATTEMPT] = auth.state  # one value, replaced by each new attempt: the cookie never grows
    return redirect(auth.url)


@accounts.get("/auth/callback")
def callback():
    client = oidc_client()
    if client is None:
        return render_template("accounts/sign_in_unavailable.html"), 503
    expected_state = session.pop(LOGIN_ATTEMPT, None)
    state = request.args.get("state", "")
    if request.args.get("error"):
        if state and state == expected_state:
            services.take_login(state)
        if request.args["error"] == "access_denied":
            return _sign_in_problem("access-denied", "You did not allow Harmony to sign you in.", 403)
        return _sign_in_problem(f"provider-{request.args['error'][:40]}", "The sign-in provider reported a problem.")
    if not expected_state or state != expected_state:
        return _sign_in_problem("state-mismatch",
                                "This sign-in was not started from this browser, or it was started again elsewhere.")
    pending = services.take_login(state)
    if pending is None:
        return _sign_in_problem("state-expired", "This sign-in took too long or was already used.")
    issuer_param = request.args.get("iss")
    try:
        if issuer_param and issuer_param != client.issuer:
            raise oidc.SignInError("iss-mismatch", "The answer came from another sign-in provider.")
        code = request.args.get("code")
        if not code:
            raise oidc.SignInError("no-code", "The sign-in provider sent no authorization code.")
        tokens = client.exchange_code(code, pending.code_verifier)
        claims = client.validate_id_token(tokens["id_token"], pending.nonce)
    except oidc.SignInError as error:
        return _sign_in_problem(error.reason, error.message)
    key = services.sign_in(client.issuer, str(claims["sub"]), claims, tokens["id_token"], _claim_roles(claims))
    session.clear()  # a new session at sign-in: nothing from before carries over
    session[SESSION_KEY] = key
    session.permanent = True
    return redirect(pending.next_path)


def _claim_roles(claims: dict) -> set[str] | None:
    claim = current_app.config.get("OIDC_ROLE_CLAIM")
    if not claim:
        return None
    values = claims.get(claim) or []
    values = [values] if isinstance(values, str) else list(values)
    mapping = current_app.config.get("OIDC_ROLE_MAP") or {}
    return {mapping[value] for value in values if value in mapping}


@accounts.post("/auth/logout")
def logout():
    key = session.get(SESSION_KEY)
    id_token = services.end_session(key) if key else None
    session.clear()
    client = oidc_client()
    endpoint = None
    if client is not None:
        try:
            endpoint = client.end_session_endpoint
        except oidc.SignInError:
            endpoint = None
    if endpoint:
        params = {"post_logout_redirect_uri": current_app.config["BASE_URL"] + "/",
                  "client_id": client.settings.client_id}
        if id_token:
            params["id_token_hint"] = id_token
        return redirect(f"{endpoint}?{urlencode(params)}")
    flash("You are signed out.", "success")
    return redirect(url_for("core.home"))


@accounts.route("/account", methods=["GET", "POST"])
@login_required
def account():
    user = current.current_user()
    form = ProfileForm(obj=user)
    token_form = TokenForm(prefix="token")
    if form.validate_on_submit():
        try:
            services.update_profile(principal(), user.id, parse(services.ProfileUpdate, form.data))
        except ValidationError as error:
            apply_errors(form, error)
        else:
            flash("Your profile is saved.", "success")
            return redirect(url_for("accounts.account"))
    return _render_account(form, token_form)


def _render_account(form, token_form, new_token: str | None = None, status: int = 200):
    user = current.current_user()
    grants = [(grant, scopes.label_of(grant.scope_kind, grant.scope_id)) for grant in services.grants_of(user.id)]
    return render_template("accounts/account.html", user=user, form=form, token_form=token_form,
                           grants=grants, tokens=services.tokens_of(user.id), new_token=new_token,
                           revoke_form=RevokeForm(), now=clock.now()), status


@accounts.post("/account/tokens")
@login_required
def create_token():
    form = ProfileForm(obj=current.current_user())
    token_form = TokenForm(prefix="token")
    if token_form.validate_on_submit():
        try:
            _token, plain = services.create_token(
                principal(), principal().user_id,
                parse(services.TokenCreate, {"name": token_form.name.data, "days": token_form.days.data}))
        except ValidationError as error:
            apply_errors(token_form, error)
        else:
            return _render_account(form, TokenForm(prefix="token", formdata=None), new_token=plain)
    return _render_account(form, token_form, status=422)


@accounts.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    if RevokeForm().validate_on_submit():
        services.revoke_token(principal(), token_id)
        flash("The token is revoked; scripts using it will get 401.", "success")
    return redirect(url_for("accounts.account"))


@accounts.route("/admin/roles", methods=["GET", "POST"])
@login_required
def admin_roles():
    if not permissions.can_manage_roles(principal()):
        raise PermissionDenied("Only admins can manage roles.")
    form = GrantForm()
    form.user_id.choices = [(user.id, f"{user.display_name} ({user.email or 'no e-mail'})") for user in services.all_users()]
    form.role.choices = [(role, role) for role in ROLE_SCOPES]
    scope_choices = [(0, "— platform-wide —")]
    for kind_name in ("group", "committee"):
        kind = scopes.get(kind_name)
        if kind:
            scope_choices += [(scope_id, f"{kind.label}: {label}") for scope_id, label in kind.choices()]
    form.scope_id.choices = scope_choices
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            data = {"user_id": form.user_id.data, "role": form.role.data, "scope_id": form.scope_id.data or None}
            try:
                services.grant_role(principal(), parse(services.RoleGrantInput, data))
            except ValidationError as error:
                apply_errors(form, error)
                status = 422
            else:
                flash("Role granted.", "success")
                return redirect(url_for("accounts.admin_roles"))
        else:
            status = 422
    grants = [(grant, user, scopes.label_of(grant.scope_kind, grant.scope_id))
              for grant, user in services.role_grants(principal())]
    return render_template("accounts/admin_roles.html", form=form, grants=grants, revoke_form=RevokeForm()), status


@accounts.post("/admin/roles/<int:grant_id>/revoke")
@login_required
def admin_revoke_role(grant_id: int):
    if RevokeForm().validate_on_submit():
        services.revoke_role(principal(), grant_id)
        flash("Role revoked.", "success")
    return redirect(url_for("accounts.admin_roles"))


@accounts.app_context_processor
def _account_links() -> dict:
    user = g.get("user")
    return {
        "current_user": user,
        "account_url": url_for("accounts.account") if user else None,
        "logout_url": url_for("accounts.logout"),
        "login_url": url_for("accounts.login", next=current.safe_next(request.full_path.rstrip("?")) if request else None),
        "principal": principal(),
    }
