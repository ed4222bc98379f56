"""Attachments of proposals (ethics approval …): PDF only, checked by content and size, stored outside
the web root under random names, and read back only by people who may see the proposal."""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from sqlalchemy import select

from harmony import db
from harmony.access_requests.content import ATTACHMENT_KINDS
from harmony.access_requests.models import Attachment
from harmony.access_requests.proposals import editable_proposal, get_proposal
from harmony.accounts.permissions import Principal
from harmony.errors import NotFound, ValidationError

PDF_MAGIC = b"%PDF-"
CHUNK = 64 * 1024


def storage_dir() -> Path:
    folder = Path(current_app.config["ATTACHMENT_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def safe_filename(name: str | None) -> str:
    """A download name without paths, control characters or anything a header could trip on."""
    base = unicodedata.normalize("NFKD", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    base = re.sub(r"[^A-Za-z0-9._ -]+", "", base.encode("ascii", "ignore").decode()).strip(" .")
    stem = base[:-4] if base.lower().endswith(".pdf") else base
    return (stem[:100] or "attachment") + ".pdf"


def upload(principal: Principal, proposal_id: int, kind: str, stream: BinaryIO, filename: str | None) -> Attachment:
    """Check and store a PDF, then record it; a refused or failed upload leaves no file behind."""
    if kind not in ATTACHMENT_KINDS:
        raise ValidationError(fields={"kind": [f"choose one of {', '.join(ATTACHMENT_KINDS)}"]})
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    stored_name = secrets.token_hex(16) + ".pdf"
    path = storage_dir() / stored_name
    try:
        with db.unit_of_work() as uow:
            editable_proposal(uow.session, principal, proposal_id)
            size, digest = _write_pdf(stream, path, limit)
            attachment = Attachment(proposal_id=proposal_id, kind=kind, filename=safe_filename(filename),
                                    stored_name=stored_name, size=size, sha256=digest, uploaded_by=principal.user_id)
            uow.session.add(attachment)
    except BaseException:  # refused, or the commit failed: no file without its row
        path.unlink(missing_ok=True)
        raise
    return attachment


def _write_pdf(stream: BinaryIO, path: Path, limit: int) -> tuple[int, str]:
    head = stream.read(1024)
    if not head.lstrip(b"\x00\t\n\x0c\r ").startswith(PDF_MAGIC):
        raise ValidationError(fields={"file": ["Only PDF documents are accepted; this file is not a PDF."]})
    digest, size = hashlib.sha256(), 0
    with path.open("xb") as out:
        chunk = head
        while chunk:
            size += len(chunk)
            if size > limit:
                raise ValidationError(fields={"file": [f"The file is larger than {limit // (1024 * 1024)} MB."]})
            digest.update(chunk)
            out.write(chunk)
            chunk = stream.read(CHUNK)
    if size == 0:
        raise ValidationError(fields={"file": ["The file is empty."]})
    return size, digest.hexdigest()


def attachments_of(viewer: Principal, proposal_id: int) -> list[Attachment]:
    get_proposal(viewer, proposal_id)
    return list(db.session().scalars(select(Attachment).where(Attachment.proposal_id == proposal_id)
                                     .order_by(Attachment.uploaded_at)))


def open_attachment(viewer: Principal, proposal_id: int, attachment_id: int) -> tuple[Attachment, Path]:
    """The attachment and its file, if the viewer may see the proposal it belongs to (404 otherwise)."""
    get_proposal(viewer, proposal_id)
    attachment = db.session().get(Attachment, attachment_id)
    if attachment is None or attachment.proposal_id != proposal_id:
        raise NotFound("No such attachment.")
    return attachment, storage_dir() / attachment.stored_name


def remove(principal: Principal, proposal_id: int, attachment_id: int) -> None:
    with db.unit_of_work() as uow:
        editable_proposal(uow.session, principal, proposal_id)
        attachment = uow.session.get(Attachment, attachment_id)
        if attachment is None or attachment.proposal_id != proposal_id:
            raise NotFound("No such attachment.")
        uow.session.delete(attachment)
        path = storage_dir() / attachment.stored_name
        uow.after_commit(lambda: path.unlink(missing_ok=True))

