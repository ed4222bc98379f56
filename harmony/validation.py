"""One way to validate input: pydantic models shared by HTML forms and the JSON API."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Any, TypeVar

import pydantic
from email_validator import EmailNotValidError, validate_email
from flask_wtf import FlaskForm

from harmony.errors import ValidationError

Model = TypeVar("Model", bound=pydantic.BaseModel)


def _email(value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False, globally_deliverable=False,
                              test_environment=True).normalized
    except EmailNotValidError as error:
        raise ValueError(f"not an e-mail address: {error}") from None


# An e-mail address as JSON Schema's `email` format reads it: the syntax is checked, not the domain (an
# address at a reserved or test domain is an address; whether mail arrives is the mail server's answer).
Email = Annotated[str, pydantic.AfterValidator(_email), pydantic.WithJsonSchema({"type": "string", "format": "email"})]


def items_from(values: Callable[[], Iterable[Any]]) -> Callable[[dict[str, Any]], None]:
    """A field's `json_schema_extra` for a list whose items come from a vocabulary: the description lists
    the values the validator accepts (read when the description is written, not at import)."""
    def extra(schema: dict[str, Any]) -> None:
        schema["items"] = {"enum": list(values())}
    return extra


def value_from(values: Callable[[], Iterable[Any]], blank: bool = False) -> Callable[[dict[str, Any]], None]:
    """The same for an optional single value (None, and "" when `blank`, are accepted as well)."""
    def extra(schema: dict[str, Any]) -> None:
        schema.pop("type", None)
        schema["anyOf"] = [{"enum": [*values(), *([""] if blank else [])]}, {"type": "null"}]
    return extra


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
