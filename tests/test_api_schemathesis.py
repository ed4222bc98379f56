"""The API as its description says: Schemathesis runs every operation of /api/v1/openapi.json, with each kind
of token, through the app's WSGI interface (no server), and all its checks must pass: no server error, status
codes, content types, response schemas and headers as described, wrong data refused, unsupported methods 405.

Bounded: derandomised, a few examples per operation, no shrinking. Path parameters draw real ids (datasets,
groups, a proposal, its review, a committee, a person with a grant) half of the time, so the operations get
past their 404s. Runs on PostgreSQL, the production database: what it checks is the API's surface, which
does not depend on the database, and one run per kind of token is most of a minute.

Schemathesis 4.32's pytest plugin does not load under pytest 9, so the test drives its engine directly.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis import engine
from schemathesis.engine import events
from schemathesis.transport.wsgi import WSGITransport

from harmony import clock
from harmony.accounts import services as accounts
from harmony.accounts.services import COMMAND_LINE, TokenCreate
from harmony.passports import keys
from harmony.platforms.tokens import PlatformInput, register_platform
from tests.access_requests.conftest import act, approve, build_world

# Schemathesis leaves the responses it reads open, so a downloaded attachment's file is closed by the
# garbage collector, which pytest reports as a warning.
pytestmark = [pytest.mark.postgres_only, pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")]

SOCKET_SETTINGS = ("max_redirects", "verify", "cert", "proxies")


@pytest.fixture(autouse=True)
def _probes_reach_the_app(monkeypatch):
    """Schemathesis 4.32's WSGI transport forwards socket settings to werkzeug when its `ignored_auth` check
    sends a probe without a session (TypeError: unexpected keyword argument 'max_redirects'); drop them there,
    as the transport itself does for requests made with a session."""
    original = WSGITransport.send

    def send(self, case, *, session=None, **kwargs):
        for name in SOCKET_SETTINGS:
            kwargs.pop(name, None)
        return original(self, case, session=session, **kwargs)

    monkeypatch.setattr(WSGITransport, "send", send)


KINDS = ("anonymous", "alice", "cora", "adam", "dave", "platform")


@pytest.fixture(params=KINDS)
def kind(request) -> str:
    return request.param


@pytest.fixture
def api_schema(app, kind, tmp_path):
    app.config["VISA_KEY_FILE"] = str(tmp_path / "keys.json")  # so that the passport endpoints can sign
    client = app.test_client()
    world = build_world(app)
    with app.app_context():
        keys.rotate(clock.now())
        cora = accounts.find_user("cora", world.issuer)
        world.tokens["cora"] = accounts.create_token(COMMAND_LINE, cora.id, TokenCreate(name="test"))[1]
        world.tokens["platform"] = register_platform(COMMAND_LINE, PlatformInput(name="Leiden SRE"))[1]
    granted = approve(client, world)
    accepted = act(client, world, "alice", granted, "accept-agreement", agreements={world.committees[0].id: 1})
    assert accepted.status_code == 200, accepted.get_json()
    reviewed = approve(client, world, pids=world.datasets[:1])
    review_id = client.get(f"/api/v1/requests/{reviewed}", headers=world.headers("olga")).get_json()["reviews"][0]["id"]
    real = {"key": st.sampled_from(world.datasets), "acronym": st.sampled_from(["HOVON", "epln"]),
            "proposal_id": st.sampled_from([granted, reviewed]), "review_id": st.just(review_id),
            "committee_id": st.sampled_from([c.id for c in world.committees]), "subject": st.just("alice")}

    config = schemathesis.Config.from_dict({
        "headers": {"Authorization": f"Bearer {world.tokens[kind]}"} if kind != "anonymous" else {},
        "generation": {"max-examples": 5, "deterministic": True, "no-shrink": True, "database": "none"},
        "phases": {"stateful": {"enabled": False}}, "workers": 1,
        # An upload is a PDF (the description's contentMediaType), checked by its content, which JSON Schema
        # cannot make the generator write: a generated file that is not a PDF is refused with 422 there.
        "operations": [{"include-operation-id": "uploadAttachment", "checks": {"positive_data_acceptance": {
            "expected-statuses": ["2xx", "401", "403", "404", "409", "422"]}}}]})
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)

    @loaded.hook
    def before_generate_path_parameters(context, strategy):
        def with_real_ids(drawn):
            if not isinstance(drawn, dict):
                return st.just(drawn)
            return st.fixed_dictionaries({**{name: st.just(value) for name, value in drawn.items()},
                                          **{name: real[name] for name in drawn if name in real}})

        return st.one_of(strategy, strategy.flatmap(with_real_ids))

    return loaded


def _run(schema) -> tuple[list[str], set[str]]:
    """Every failed check (and engine error) as a line saying what was sent and what came back, and the
    operations that were called."""
    found, called = [], set()
    for event in engine.from_schema(schema).execute():
        if isinstance(event, (events.NonFatalError, events.FatalError)):
            found.append(f"error: {getattr(event, 'label', '')} {getattr(event, 'value', '')}")
        recorder = getattr(event, "recorder", None)
        if not isinstance(event, (events.ScenarioFinished, events.FuzzScenarioFinished)) or recorder is None:
            continue
        called.add(recorder.label)
        for case_id, checks in recorder.checks.items():
            for check in checks:
                if check.failure_info is None:
                    continue
                case = recorder.cases[case_id].value
                interaction = recorder.interactions.get(case_id)
                response = interaction.response if interaction else None
                answer = f"{response.status_code} {response.content[:300]!r}" if response else "no response"
                found.append(f"{check.name}: {case.method} {case.formatted_path} query={case.query} "
                             f"body={str(case.body)[:1000]} -> {answer}: {check.failure_info.failure.title} "
                             f"({getattr(check.failure_info.failure, 'message', '')[:300]})")
    return sorted(set(found)), called


def test_every_operation_answers_as_described(api_schema):
    failures, called = _run(api_schema)
    assert not failures, "\n".join(failures)
    described = {operation.ok().label for operation in api_schema.get_all_operations()}
    assert called == described, f"never called: {sorted(described - called)}"
