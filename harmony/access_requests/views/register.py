"""The public register of approved projects: the page (/register) and its Atom feed (/register.atom).
Anyone may read both; what they show is decided by harmony.access_requests.register."""

from __future__ import annotations

from datetime import datetime
from xml.etree import ElementTree

from flask import Response, current_app, render_template, request, url_for

from harmony import clock
from harmony.access_requests import register as projects
from harmony.access_requests.views import access_requests

PER_PAGE = 20
FEED_SIZE = 50
ATOM = "http://www.w3.org/2005/Atom"


@access_requests.app_template_global()
def approved_projects_using(dataset_id: int) -> list[tuple[int, str]]:
    """For the catalog's landing page, which calls it only when it is defined."""
    return projects.projects_using(dataset_id)


@access_requests.get("/register")
def register():
    q = request.args.get("q", "").strip()
    number = max(1, request.args.get("page", 1, type=int) or 1)
    found = projects.register(q, number, PER_PAGE)
    return render_template("access_requests/register.html", page=found, q=q)


def _stamp(moment: datetime | None) -> str:
    return (moment or clock.now()).isoformat(timespec="seconds").replace("+00:00", "Z")


@access_requests.get("/register.atom")
def register_feed():
    q = request.args.get("q", "").strip()
    found = projects.register(q, 1, FEED_SIZE)
    base = current_app.config["BASE_URL"]
    page_url = base + url_for(".register")
    ElementTree.register_namespace("", ATOM)

    def add(parent, tag: str, text: str | None = None, **attributes: str):
        element = ElementTree.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
        element.text = text
        return element

    feed = ElementTree.Element(f"{{{ATOM}}}feed")
    add(feed, "id", page_url)
    add(feed, "title", "Harmony: register of approved projects")
    add(feed, "updated", _stamp(found.items[0].decided_at if found.items else None))
    add(feed, "link", rel="self", href=base + url_for(".register_feed"), type="application/atom+xml")
    add(feed, "link", rel="alternate", href=page_url, type="text/html")
    add(add(feed, "author"), "name", "Harmony")
    for project in found.items:
        link = f"{page_url}#project-{project.id}"
        entry = add(feed, "entry")
        add(entry, "id", link)
        add(entry, "title", project.title)
        add(entry, "updated", _stamp(project.decided_at))
        add(entry, "link", rel="alternate", href=link, type="text/html")
        add(add(entry, "author"), "name", project.applicant)
        datasets = ", ".join(d.pid for d in project.datasets)
        published = "".join(f"\nPublication: {p.title}" + (f" <{p.url}>" if p.url else "") for p in project.publications)
        add(entry, "summary", f"{project.lay_summary}\n\n{project.institution}. Datasets: {datasets}. "
                              f"Grant period: {project.grant_period}.{published}".strip())
    body = ElementTree.tostring(feed, encoding="utf-8", xml_declaration=True)
    return Response(body, mimetype="application/atom+xml")
