"""Catalog pages: landing pages, versions and their differences, tombstones, study groups, curation.

Views parse input, call one service and render; who may see or change what is decided by the
services and the predicates in `permissions`. Curation pages answer 404 to anyone who may not
see the working copy, so an unpublished draft never shows that it exists.
"""

from __future__ import annotations

from math import ceil
from typing import Any

from flask import Blueprint, current_app, flash, jsonify, make_response, redirect, render_template, request, url_for

from harmony.accounts.current import login_required, principal
from harmony.catalog import curation_desk, formats, forms, page_cache, permissions, services, terms
from harmony.catalog.content import DatasetContent, completeness, publication_problems, registration_kind
from harmony.catalog.exports.listing import first_issued
from harmony.catalog.exports.rdf import rdf_response, wanted_rdf_format
from harmony.catalog.exports.schemaorg import dataset_jsonld
from harmony.catalog.exports.signposting import link_header
from harmony.catalog.forms import FIELD_LABELS, DatasetForm
from harmony.catalog.models import PUBLISHED, WITHDRAWN, Dataset, DatasetVersion, StudyGroup
from harmony.catalog.vocabularies import diseases, duo
from harmony.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationError
from harmony.validation import apply_errors, parse

catalog = Blueprint("catalog", __name__)
PER_PAGE = 25
RDF_FORMS = (("ttl", "Turtle", "text/turtle"), ("jsonld", "JSON-LD", "application/ld+json"),
             ("rdf", "RDF/XML", "application/rdf+xml"))


@catalog.context_processor
def _vocabularies() -> dict[str, Any]:
    """What templates need to put stored codes into words."""
    return {"term_label": forms.term_label, "field_labels": FIELD_LABELS, "disease_vocabulary": diseases(),
            "duo_term": duo().get, "plain_duo": forms.plain_duo, "terms": terms, "registration_kind": registration_kind,
            "formats": formats}


# --- reading ------------------------------------------------------------------------------


@catalog.get("/datasets/<pid:pid>")
@page_cache.anonymous_pages()
def landing(pid: str):
    """The newest published version for everyone; a never-published draft for its curators."""
    viewer = principal()
    dataset = services.get_dataset(viewer, pid)
    fmt = wanted_rdf_format(request.accept_mimetypes)
    if fmt:  # machines asking for RDF get it, tombstones included
        return rdf_response(dataset, fmt)
    if dataset.state == WITHDRAWN:
        return _tombstone(dataset)
    current = services.latest_version(dataset)
    context = _page(dataset, current)
    base_url = current_app.config["BASE_URL"]
    if current is not None:
        issued = first_issued([dataset.id]).get(dataset.id)
        context["jsonld"] = dataset_jsonld(dataset, current, context["group"], base_url, issued=issued)
    response = make_response(render_template("catalog/landing.html", **context))
    response.vary.add("Accept")
    if current is not None:
        response.headers["Link"] = link_header(dataset, current, base_url)
    return response


@catalog.get("/datasets/<pid:pid>/versions/<int:number>")
def past_version(pid: str, number: int):
    dataset = services.get_dataset(principal(), pid)
    if dataset.state == WITHDRAWN:
        return _tombstone(dataset)
    return render_template("catalog/landing.html", **_page(dataset, services.version(dataset.id, number)))


@catalog.get("/datasets/<pid:pid>/compare")
def compare(pid: str):
    dataset = services.get_dataset(principal(), pid)
    if dataset.state == WITHDRAWN:
        return _tombstone(dataset)
    numbers = sorted((request.args.get("a", type=int) or 0, request.args.get("b", type=int) or 0))
    old, new = (services.version(dataset.id, number) for number in numbers)
    return render_template("catalog/compare.html", dataset=dataset, old=old, new=new, group=_group_of(dataset),
                           changes=_changes(old.content, new.content), versions=services.versions(dataset.id))


@catalog.get("/groups/<acronym>")
def group_page(acronym: str):
    viewer = principal()
    group = services.group_by_acronym(acronym)
    if group.acronym != acronym:
        return redirect(url_for(".group_page", acronym=group.acronym, page=request.args.get("page")), 301)
    curator = permissions.can_curate(viewer, group.id)
    listed = [d for d in services.datasets_of_group(viewer, group.id) if curator or d.state == PUBLISHED]
    pages = max(1, ceil(len(listed) / PER_PAGE))
    page = request.args.get("page", 1, type=int)
    if not 1 <= page <= pages:
        raise NotFound(f"There is no page {page}.")
    shown = listed[(page - 1) * PER_PAGE: page * PER_PAGE]
    rows = [(d, d.content if curator else services.latest_version(d).content) for d in shown]
    return render_template("catalog/group.html", group=group, rows=rows, total=len(listed), page=page,
                           pages=pages, curator=curator)


# --- curating -----------------------------------------------------------------------------


@catalog.get("/curate")
@login_required
def curate():
    viewer = principal()
    if not permissions.can_curate_anything(viewer):
        raise PermissionDenied("The curation desk is for the curators of a study group.")
    query = parse(curation_desk.DeskQuery, request.args.to_dict())
    listed = curation_desk.desk_page(viewer, query)
    mine = [group for group in services.groups() if permissions.can_curate(viewer, group.id)]
    return render_template("catalog/curate.html", listed=listed, query=query, groups=mine,
                           states=curation_desk.STATES, sorts=curation_desk.SORTS)


@catalog.route("/groups/<acronym>/datasets/new", methods=["GET", "POST"])
@login_required
def new_dataset(acronym: str):
    viewer = principal()
    group = _curated_group(acronym)
    if request.method == "GET":
        return _editor(DatasetForm(data=forms.form_data({})), group)
    form = DatasetForm()
    try:
        dataset = services.create_dataset(viewer, group.id, parse(DatasetContent, forms.content_input(form)))
    except ValidationError as error:
        forms.show_errors(form, error)
        return _editor(form, group, status=422)
    flash(f"Draft {dataset.pid} saved. Visitors will see it once you publish it.", "success")
    return redirect(_after_save(dataset.pid))


@catalog.route("/datasets/<pid:pid>/edit", methods=["GET", "POST"])
@login_required
def edit(pid: str):
    viewer = principal()
    dataset = _working_copy(pid)
    if dataset.state == WITHDRAWN:
        raise InvalidTransition("A withdrawn dataset cannot be edited.")
    if request.method == "GET":
        form = DatasetForm(data=forms.form_data(dataset.content, dataset.lock_version))
        return _editor(form, _group_of(dataset), dataset)
    form = DatasetForm()
    expected = int(form.lock_version.data) if (form.lock_version.data or "").isdigit() else -1
    try:
        content = parse(DatasetContent, forms.content_input(form))
        services.update_dataset(viewer, dataset.id, content, expected)
    except ValidationError as error:
        forms.show_errors(form, error)
        return _editor(form, _group_of(dataset), dataset, status=422)
    except Conflict as error:
        # The rollback expired `dataset`: reading it now gives what the other person saved.
        differing = [FIELD_LABELS.get(key, key) for key, _, _ in services.diff(dataset.content, content.stored())]
        form.lock_version.data = str(dataset.lock_version)
        form.form_errors.append(f"{error.detail} Your input is kept below and is not saved yet. Fields where it "
                                f"differs from what is saved now: {', '.join(differing) or 'none'}. "
                                "Save again to replace their version with yours.")
        return _editor(form, _group_of(dataset), dataset, status=409)
    flash("Your changes are saved in the working copy.", "success")
    return redirect(_after_save(pid))


@catalog.route("/datasets/<pid:pid>/publish", methods=["GET", "POST"])
@login_required
def publish(pid: str):
    dataset = _working_copy(pid)
    notes = dataset.content.get("version_notes")
    form = forms.PublishForm() if request.method == "POST" else forms.PublishForm(data={"notes": notes})
    status = 200
    if request.method == "POST":
        try:
            published = services.publish(principal(), dataset.id, (form.notes.data or "").strip() or None)
        except ValidationError as error:
            apply_errors(form, error)
            status = 422
        else:
            flash(f"Version {published.version} is published.", "success")
            return redirect(url_for(".landing", pid=pid))
    latest = services.latest_version(dataset)
    score, fixes = completeness(dataset.content)
    publishable = dataset.state in services.TRANSITIONS["publish"].from_states and (
        dataset.state != PUBLISHED or dataset.has_unpublished_changes)
    return render_template("catalog/publish.html", dataset=dataset, group=_group_of(dataset), form=form,
                           latest=latest, changes=_changes(latest.content if latest else {}, dataset.content),
                           score=score, fixes=fixes, problems=publication_problems(dataset.content),
                           publishable=publishable), status


@catalog.route("/datasets/<pid:pid>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(pid: str):
    dataset = _working_copy(pid)
    if dataset.state == WITHDRAWN:
        return redirect(url_for(".landing", pid=pid))
    form = forms.WithdrawForm()
    status = 200
    if request.method == "POST":
        try:
            services.withdraw(principal(), dataset.id, form.reason.data)
        except ValidationError as error:
            apply_errors(form, error)
            status = 422
        else:
            flash("The dataset is withdrawn. Its page now shows the reason you gave.", "success")
            return redirect(url_for(".landing", pid=pid))
    withdrawable = dataset.state in services.TRANSITIONS["withdraw"].from_states
    return render_template("catalog/withdraw.html", dataset=dataset, group=_group_of(dataset), form=form,
                           withdrawable=withdrawable, content=dataset.content), status


@catalog.post("/datasets/<pid:pid>/completeness")
def completeness_of_edit(pid: str):
    """Score and fix-it list of the form as it is now (the edit page's live panel posts here)."""
    _working_copy(pid)
    return jsonify(forms.live_completeness(DatasetForm()))


@catalog.post("/groups/<acronym>/datasets/completeness")
def completeness_of_new(acronym: str):
    group = services.group_by_acronym(acronym)
    if not permissions.can_curate(principal(), group.id):
        raise NotFound("No such page.")
    return jsonify(forms.live_completeness(DatasetForm()))


# --- helpers ------------------------------------------------------------------------------


def _working_copy(pid: str) -> Dataset:
    """The dataset, if the viewer may see its working copy; a 404 otherwise, as for a draft."""
    dataset = services.get_dataset(principal(), pid)
    if not permissions.can_see_working_copy(principal(), dataset):
        raise NotFound("No such dataset.")
    return dataset


def _curated_group(acronym: str) -> StudyGroup:
    group = services.group_by_acronym(acronym)
    if not permissions.can_curate(principal(), group.id):
        raise PermissionDenied("Only the study group's curators can add datasets.")
    return group


def _group_of(dataset: Dataset) -> StudyGroup:
    return next(group for group in services.groups() if group.id == dataset.group_id)


def _after_save(pid: str) -> str:
    return url_for(".publish" if request.form.get("action") == "publish" else ".edit", pid=pid)


def _editor(form: DatasetForm, group: StudyGroup, dataset: Dataset | None = None, status: int = 200):
    if dataset is None:
        live_url = url_for(".completeness_of_new", acronym=group.acronym)
        action = url_for(".new_dataset", acronym=group.acronym)
    else:
        live_url = url_for(".completeness_of_edit", pid=dataset.pid)
        action = url_for(".edit", pid=dataset.pid)
    return render_template("catalog/edit.html", form=form, group=group, dataset=dataset, action=action,
                           live_url=live_url, live=forms.live_completeness(form), countries=forms.country_names(),
                           suggest_url="/api/v1/vocabularies/diseases"), status


def _changes(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(FIELD_LABELS.get(key, key), forms.format_value(key, was), forms.format_value(key, now))
            for key, was, now in services.diff(old, new)]


def citation(content: dict[str, Any], group: StudyGroup, version: DatasetVersion | None, pid: str) -> str:
    """Creators (year). Title. Version. Publisher. PID URL — the DataCite order."""
    names = [person["name"] for person in content.get("creators", [])] or [group.name]
    year = f" ({version.issued_at.year})" if version else ""
    parts = [f"{'; '.join(names)}{year}.", f"{(content.get('title') or pid).rstrip('.')}.",
             f"Version {version.version}." if version else "Unpublished draft.", f"{group.name}.",
             f"{current_app.config['BASE_URL']}/datasets/{pid}"]
    return " ".join(parts)


def _page(dataset: Dataset, shown: DatasetVersion | None) -> dict[str, Any]:
    """What the landing page and a past version's page show: `shown`, or a draft's working copy."""
    group = _group_of(dataset)
    content = shown.content if shown else dataset.content
    basket = "access_requests.basket_add" in current_app.view_functions
    return {"dataset": dataset, "group": group, "version": shown, "content": content,
            "versions": services.versions(dataset.id), "citation": citation(content, group, shown, dataset.pid),
            "curator": permissions.can_see_working_copy(principal(), dataset), "basket": basket,
            "rdf_links": [(url_for(".landing", pid=dataset.pid) + "." + ext, name, mime) for ext, name, mime in RDF_FORMS],
            "jsonld": None}


def _tombstone(dataset: Dataset):
    """HTTP 410 with the citation, the reason and the date, so old citations still lead somewhere."""
    group = _group_of(dataset)
    last = services.latest_version(dataset)
    content = last.content if last else dataset.content
    return render_template("catalog/tombstone.html", code=410, title="This dataset was withdrawn",
                           description="Its description is no longer available. The citation and the reason "
                                       "are kept here so that references to it still lead somewhere.",
                           dataset=dataset, group=group, content=content,
                           citation=citation(content, group, last, dataset.pid)), 410
