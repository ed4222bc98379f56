"""One way to validate input: pydantic models shared by HTML forms and the JSON API."""

from __future__ import annotations

from typing import Any, TypeVar

import pydantic
from flask_wtf import FlaskForm

from harmony.errors import ValidationError

Model = TypeVar("Model", bound=pydantic.BaseModel)


def parse(model: type[Model], data: dict[str, Any]) -> Model:
    """Validate `data` as `model`, or raise ValidationError naming each field and its problem."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as error:
        fields: dict[str, list[str]] = {}
        for item in error.errors():
            name = ".".join(str(part) for part in item["loc"]) or "__root__"
            message = item["msg"].removeprefix("Value error, ")
            fields.setdefault(name, []).append(message)
        raise ValidationError("Some fields need attention.", fields) from None


def apply_errors(form: FlaskForm, error: ValidationError) -> None:
    """Show a service's field errors next to the form's fields (unknown ones at the top)."""
    for name, messages in error.fields.items():
        field = getattr(form, name.split(".")[0], None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + messages
        else:
            form.form_errors.extend(messages)
