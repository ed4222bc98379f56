"""HTML forms of accounts. They carry CSRF and raw input; the services' input models validate."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class ProfileForm(FlaskForm):
    affiliation = StringField("Affiliation", validators=[Optional(), Length(max=300)],
                              description="Your institution, as it should appear on proposals.")
    orcid = StringField("ORCID iD", validators=[Optional()], description="For example 0000-0002-1825-0097.")


class TokenForm(FlaskForm):
    name = StringField("Token name", validators=[DataRequired(), Length(max=100)],
                       description="What the token is for, e.g. 'harvest script'.")
    days = IntegerField("Valid for (days)", default=90, validators=[DataRequired(), NumberRange(min=1, max=365)])


class RevokeForm(FlaskForm):
    """A button that only carries the CSRF token."""


class GrantForm(FlaskForm):
    user_id = SelectField("Person", coerce=int, validators=[DataRequired()])
    role = SelectField("Role", validators=[DataRequired()])
    scope_id = SelectField("Study group or committee", coerce=int, validators=[Optional()],
                           description="Needed for curator (a study group), member and chair (a committee).")
