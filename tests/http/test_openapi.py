"""GET /openapi.json: a structurally valid OpenAPI 3.1 document with one operation per route of the table,
its path parameters declared, and each description the COMMENT of the api.* function behind the route.

openapi-spec-validator is not installed, so the structure is checked here: the required top-level keys,
every operation's operationId (unique) and responses, every $ref and security requirement resolving, and
every {param} of a path template declared as a required path parameter (and no undeclared one).
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb
from starlette.testclient import TestClient

from gateway.routes import ROUTES

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
PATH_ITEM_FIELDS = {"$ref", "summary", "description", "servers", "parameters"} | METHODS
PARAMETER_LOCATIONS = {"query", "header", "path", "cookie"}


@pytest.fixture
def doc(client: TestClient) -> dict[str, Any]:
    r = client.get("/openapi.json")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    return r.json()


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(path, method, operation, path item) for every operation of the document."""
    return [
        (path, method, op, item)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def resolve(doc: dict[str, Any], ref: str) -> Any:
    """The target of a local JSON reference ("#/components/schemas/X"); KeyError when it does not resolve."""
    assert ref.startswith("#/"), f"only local references are expected: {ref}"
    node: Any = doc
    for raw in ref[2:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def refs(node: Any) -> list[str]:
    """Every "$ref" string anywhere in `node`."""
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


def test_document_structure(doc: dict[str, Any]) -> None:
    assert re.fullmatch(r"3\.1\.\d+", doc["openapi"]), doc["openapi"]
    assert isinstance(doc["info"]["title"], str) and doc["info"]["title"]
    assert isinstance(doc["info"]["version"], str) and doc["info"]["version"]
    assert isinstance(doc["paths"], dict) and doc["paths"]
    schemes = doc.get("components", {}).get("securitySchemes", {})
    seen_ids: set[str] = set()
    for path, item in doc["paths"].items():
        assert path.startswith("/"), path
        assert set(item) <= PATH_ITEM_FIELDS, (path, set(item) - PATH_ITEM_FIELDS)
    for path, method, op, _ in operations(doc):
        where = f"{method.upper()} {path}"
        assert isinstance(op.get("operationId"), str) and op["operationId"], where
        assert op["operationId"] not in seen_ids, f"duplicate operationId {op['operationId']}"
        seen_ids.add(op["operationId"])
        assert isinstance(op.get("responses"), dict) and op["responses"], where
        for code, response in op["responses"].items():
            assert re.fullmatch(r"[1-5]\d\d|[1-5]XX|default", code), (where, code)
            assert isinstance(response.get("description"), str), (where, code)  # required by OpenAPI
            for media, content in response.get("content", {}).items():
                assert "/" in media and isinstance(content.get("schema", {}), dict), (where, code, media)
        params = op.get("parameters", [])
        keys = [(p["name"], p["in"]) for p in params]
        assert len(keys) == len(set(keys)), f"{where}: duplicate parameters {keys}"
        for p in params:
            assert isinstance(p["name"], str) and p["name"], where
            assert p["in"] in PARAMETER_LOCATIONS, (where, p)
            assert ("schema" in p) != ("content" in p), (where, p)  # exactly one of them
            if p["in"] == "path":
                assert p.get("required") is True, (where, p)  # path parameters must be required
        if "requestBody" in op:
            assert isinstance(op["requestBody"].get("content"), dict) and op["requestBody"]["content"], where
        for requirement in op.get("security", []):
            for name in requirement:
                assert name in schemes, f"{where}: security scheme {name} is not defined"
    for scheme in schemes.values():
        assert scheme["type"] in {"apiKey", "http", "mutualTLS", "oauth2", "openIdConnect"}, scheme


def test_every_ref_resolves(doc: dict[str, Any]) -> None:
    # the checker itself: it finds nested references and refuses a dangling one
    sample = {"components": {"schemas": {"A/B": {}}}, "x": [{"$ref": "#/components/schemas/A~1B"}]}
    assert refs(sample) == ["#/components/schemas/A~1B"] and resolve(sample, refs(sample)[0]) == {}
    with pytest.raises(KeyError):
        resolve(sample, "#/components/schemas/Missing")
    for ref in refs(doc):  # the document has none today; any added later must resolve
        try:
            resolve(doc, ref)
        except (KeyError, IndexError, ValueError) as err:
            raise AssertionError(f"$ref {ref} does not resolve") from err


def test_path_templates_declare_their_parameters(doc: dict[str, Any]) -> None:
    for path, method, op, item in operations(doc):
        declared = {p["name"] for p in [*item.get("parameters", []), *op.get("parameters", [])] if p["in"] == "path"}
        assert declared == set(re.findall(r"{([^}/]+)}", path)), f"{method.upper()} {path}: {declared}"


def test_every_route_has_its_operation(doc: dict[str, Any]) -> None:
    for route in ROUTES:
        where = f"{route.method} {route.path}"
        op = doc["paths"][route.path][route.method.lower()]
        assert str(route.status) in op["responses"], (where, op["responses"].keys())
        for name in re.findall(r"{(\w+)}", route.path):
            (param,) = [p for p in op["parameters"] if p["in"] == "path" and p["name"] == name]
            assert param["required"] is True, where
        if route.auth == "required":
            assert op["security"] == [{"bearer": []}], where
            assert {"401", "403"} <= op["responses"].keys(), where
        elif route.auth == "optional":
            assert {} in op["security"] and {"bearer": []} in op["security"], where
        else:
            assert not op.get("security"), where
        if route.method in {"POST", "PUT", "PATCH"}:
            assert "application/json" in op["requestBody"]["content"], where


def test_descriptions_are_the_sql_comments(doc: dict[str, Any], postgresql: psycopg.Connection) -> None:
    """The description of each operation is the COMMENT ON FUNCTION of its api.* function, never empty."""
    for route in ROUTES:
        row = postgresql.execute(
            "SELECT pg_catalog.obj_description(%s::regprocedure, 'pg_proc')", [f"{route.function}(jsonb)"]
        ).fetchone()
        assert row is not None
        comment = row[0]
        assert comment and comment.strip(), f"{route.function} has no COMMENT"
        description = doc["paths"][route.path][route.method.lower()]["description"]
        assert description == comment, route.function
        assert route.path in comment or route.path.replace("{id}", "") in comment, (route.function, comment)


def test_request_bodies_are_valid_schemas(doc: dict[str, Any]) -> None:
    """Every request body schema is valid JSON Schema (2020-12, OpenAPI 3.1's dialect), its required fields
    are among its properties, and a body the contract calls valid conforms (and an invalid one does not)."""
    jsonschema_rs = pytest.importorskip("jsonschema_rs")  # schemathesis' validator (dev extras)
    bodies = {}
    for path, method, op, _ in operations(doc):
        if "requestBody" in op:
            schema = op["requestBody"]["content"]["application/json"]["schema"]
            jsonschema_rs.meta.validate(schema)  # a valid 2020-12 schema, else ValidationError
            assert set(schema.get("required", [])) <= set(schema["properties"]), (method, path)
            assert op["requestBody"]["required"] is bool(schema.get("required")), (method, path)
            bodies[f"{method.upper()} {path}"] = jsonschema_rs.Draft202012Validator(schema, validate_formats=True)
    valid = {
        "POST /api/checkins": {"mood_today": "hopeful, tired", "confidence_today": 7, "side_effects": ["nausea"]},
        "POST /api/auth/signup": {"email": "a@example.com", "nickname": "A", "cycle_stage": "ivf_prep"},
        "POST /api/v2/health/events": {"event_type": "medication", "event_data": {"status": "taken"}},
        "POST /api/insights/feedback": {"insight_id": "6f1c2f0e-8d1b-4c39-9a55-0d6c1d2b9e10", "helpful": True},
        "PATCH /api/users/cycle-stage": {"cycle_stage": "tww"},
    }
    invalid = {
        "POST /api/checkins": {"mood_today": "ok"},
        "POST /api/v2/health/events": {"event_type": "medication", "event_data": {"mood": "x"}},
        "PATCH /api/users/cycle-stage": {"cycle_stage": "lunar"},
    }
    for where, body in valid.items():
        assert not list(bodies[where].iter_errors(body)), where
    for where, body in invalid.items():
        assert list(bodies[where].iter_errors(body)), where


def test_links_point_to_operations(doc: dict[str, Any]) -> None:
    """The response links (a created check-in's id into GET/PUT/DELETE by id) name existing operations."""
    ids = {op["operationId"] for _, _, op, _ in operations(doc)}
    responses = [r for _, _, op, _ in operations(doc) for r in op["responses"].values()]
    links = [link for r in responses for link in r.get("links", {}).values()]
    assert len(links) >= 3
    for link in links:
        assert link["operationId"] in ids, link
        assert link["parameters"] == {"id": "$response.body#/checkin/id"}


# ------------------------------------------------------------------------- accepted values against the database


def enums(doc: dict[str, Any]) -> list[tuple[str, str, str, list[str], dict[str, Any]]]:
    """Every enum a client may send: (operation, where: query | body | event_data, field, values, context)."""
    out: list[tuple[str, str, str, list[str], dict[str, Any]]] = []
    for path, method, op, _ in operations(doc):
        where = f"{method.upper()} {path}"
        for p in op.get("parameters", []):
            if "enum" in p.get("schema", {}):
                out.append((where, "query", p["name"], p["schema"]["enum"], {}))
        schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        if not schema:
            continue
        for name, prop in schema["properties"].items():
            if "enum" in prop:
                out.append((where, "body", name, prop["enum"], {"schema": schema}))
        for alternative in schema.get("oneOf", []):
            data = alternative["properties"]["event_data"]
            event_type = alternative["properties"]["event_type"]["const"]
            for name, prop in data["properties"].items():
                if "enum" in prop:
                    out.append((where, "event_data", name, prop["enum"], {"schema": data, "event_type": event_type}))
    return out


def valid_value(prop: dict[str, Any]) -> Any:
    """A value the schema `prop` accepts (the first enum value, the minimum, a unique email...)."""
    if "enum" in prop:
        return prop["enum"][0]
    kind = prop.get("type")
    kind = next(t for t in kind if t != "null") if isinstance(kind, list) else kind
    if prop.get("format") == "email":
        return f"enum-{uuid.uuid4().hex[:10]}@example.com"
    return {
        "string": "x" * max(1, prop.get("minLength", 1)),
        "integer": prop.get("minimum", 1),
        "number": prop.get("minimum", 1),
        "boolean": True,
        "object": {},
        "array": [],
    }[kind]


def required_sample(schema: dict[str, Any]) -> dict[str, Any]:
    return {name: valid_value(schema["properties"][name]) for name in schema.get("required", [])}


def test_every_enum_is_what_the_database_accepts(
    doc: dict[str, Any], client: TestClient, postgresql: psycopg.Connection
) -> None:
    """The accepted values the document lists for each route are exactly those the SQL accepts: an unknown
    value sent to that route is refused with 400 naming the field and its `allowed` values, equal to the
    document's; the registry-driven lists (event types, their event_data enums, medication_taken) equal the
    database's rows both ways."""
    found = enums(doc)
    known = {(w, f) for w, _, f, _, _ in found}
    assert {
        ("POST /api/users", "cycle_stage"),
        ("POST /api/auth/signup", "medication_status"),
        ("PUT /api/users/me", "cycle_stage"),
        ("PATCH /api/users/cycle-stage", "cycle_stage"),
        ("PATCH /api/users/medication-status", "medication_status"),
        ("POST /api/checkins", "medication_taken"),
        ("PUT /api/checkins/{id}", "medication_taken"),
        ("POST /api/daily-checkin-enhanced", "medication_taken"),
        ("POST /api/insights/engagement", "action"),
        ("GET /api/v2/analytics", "timeframe"),
        ("POST /api/v2/health/events", "event_type"),
        ("POST /api/v2/health/events", "action"),
        ("POST /api/v2/health/events", "status"),
        ("POST /api/v2/health/events", "intensity"),
    } <= known, known
    signup = client.post("/api/auth/signup", json={"email": f"enum-{uuid.uuid4().hex[:10]}@example.com"})
    h = {"Authorization": f"Bearer {signup.json()['token']}"}
    checkin = client.post("/api/checkins", headers=h, json={"mood_today": "ok", "confidence_today": 5})
    checkin_id = checkin.json()["checkin"]["id"]
    bogus = "not-an-accepted-value"
    for where, location, field, values, context in found:
        method, path = where.split(" ", 1)
        path = path.replace("{id}", checkin_id)
        if location == "query":
            r = client.request(method, f"{path}?{field}={bogus}", headers=h)
            named = field
        elif location == "body":
            r = client.request(method, path, headers=h, json={**required_sample(context["schema"]), field: bogus})
            named = field
        else:
            data = {**required_sample(context["schema"]), field: bogus}
            r = client.request(method, path, headers=h, json={"event_type": context["event_type"], "event_data": data})
            named = f"event_data.{field}"
        assert r.status_code == 400, (where, field, r.text)
        body = r.json()
        assert body["field"] == named, (where, field, body)
        assert sorted(body["allowed"]) == sorted(values), (where, field, body["allowed"], values)

    # the registry, both ways: every registered type and every enum of its rules is in the document
    registry = dict(postgresql.execute("SELECT event_type, rules FROM public.event_types").fetchall())
    create_event = doc["paths"]["/api/v2/health/events"]["post"]["requestBody"]["content"]["application/json"]
    assert sorted(create_event["schema"]["properties"]["event_type"]["enum"]) == sorted(registry)
    documented = {
        a["properties"]["event_type"]["const"]: a["properties"]["event_data"] for a in create_event["schema"]["oneOf"]
    }
    assert documented.keys() == registry.keys()
    for event_type, rules in registry.items():
        data = documented[event_type]
        assert sorted(data.get("required", [])) == sorted(rules.get("required", [])), event_type
        for key, rule in rules.get("properties", {}).items():
            if "enum" in rule:
                assert data["properties"][key]["enum"] == rule["enum"], (event_type, key)
    timeline = doc["paths"]["/api/v2/health/timeline"]["get"]["parameters"]
    (event_types,) = [p for p in timeline if p["name"] == "event_types"]
    assert sorted(event_types["schema"]["description"].split(": ", 1)[1].split(", ")) == sorted(registry)
    row = postgresql.execute("SELECT allowed FROM public.checkin_fields WHERE field = 'medication_taken'").fetchone()
    assert row is not None
    checkin_body = doc["paths"]["/api/checkins"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert checkin_body["properties"]["medication_taken"]["enum"] == row[0]


def test_readme_lists_every_enum(doc: dict[str, Any]) -> None:
    """README's "Accepted values" table holds a row for each enum of each route, with the same values."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("### Accepted values", 1)[1].split("\n## ", 1)[0]
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("| `")
    ]
    assert len(rows) >= 9, rows
    used: set[int] = set()
    for where, location, field, values, context in enums(doc):
        label = f"`event_data.{field}`" if location == "event_data" else f"`{field}`"
        matches = [
            i
            for i, (name, routes, _) in enumerate(rows)
            if name == label
            and f"`{where}`" in routes
            and (location != "event_data" or f"`{context['event_type']}`" in routes)
        ]
        assert len(matches) == 1, (where, field, matches)
        listed = {v for v in re.findall(r"`([^`]+)`", rows[matches[0]][2]) if v != "public.event_types"}
        assert listed == set(values), (where, field, listed ^ set(values))
        used.add(matches[0])
    assert used == set(range(len(rows))), "a row of the table names no enum of the document"


# ------------------------------------------------------------------- every field and bound against the database


def _kinds(prop: dict[str, Any]) -> set[str]:
    kind = prop.get("type", [])
    return set(kind) if isinstance(kind, list) else {kind}


def edge_cases(prop: dict[str, Any]) -> list[tuple[Any, bool]]:
    """(value, accepted?) at each bound the schema states: on the edge accepted, one past it refused."""
    cases: list[tuple[Any, bool]] = []
    if "enum" in prop:
        return [(v, True) for v in prop["enum"]] + [("not-an-accepted-value", False)]
    if prop.get("format") == "time-zone":
        over = "x" * (prop["maxLength"] + 1)
        return [(z, True) for z in prop["examples"]] + [("Not/A_Zone", False), (over, False), (None, True)]
    if "integer" in _kinds(prop):
        if "minimum" in prop:
            cases += [(prop["minimum"], True), (prop["minimum"] - 1, False)]
        if "maximum" in prop:
            cases += [(prop["maximum"], True), (prop["maximum"] + 1, False)]
    if "number" in _kinds(prop) and "integer" not in _kinds(prop):
        if "minimum" in prop:
            cases += [(prop["minimum"], True), (prop["minimum"] - 0.5, False)]
        if "maximum" in prop:
            cases += [(prop["maximum"], True), (prop["maximum"] + 0.5, False)]
    if "string" in _kinds(prop) and "maxLength" in prop and prop.get("format") != "email":
        n = prop["maxLength"]
        cases += [("x" * n, True), ("x" * (n + 1), False)]
    if "array" in _kinds(prop):
        item = "x" * prop.get("items", {}).get("maxLength", 1)
        if "maxItems" in prop:
            cases += [([item] * prop["maxItems"], True), ([item] * (prop["maxItems"] + 1), False)]
        if "maxLength" in prop.get("items", {}):
            cases += [(["x" * (len(item) + 1)], False)]
    if "null" in _kinds(prop):
        cases.append((None, True))
    return cases


def test_every_documented_field_and_bound_is_what_the_database_enforces(
    doc: dict[str, Any], postgresql: psycopg.Connection
) -> None:
    """Check-in fields, profile fields and each event type's data, as the document states them, probed at every
    bound against the validation the SQL runs (core.validate_checkin, core.apply_profile in validate-only mode,
    core.validate_event_data): on the edge accepted, one past it refused with 400 naming the field; a required
    field left out is refused. So the document (built from the registries) and the database agree."""
    paths = doc["paths"]
    checkin = paths["/api/checkins"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    signup = paths["/api/auth/signup"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    event = paths["/api/v2/health/events"]["post"]["requestBody"]["content"]["application/json"]["schema"]

    def verdict(statement: str, params: tuple[Any, ...]) -> tuple[bool, str | None]:
        try:
            with postgresql.transaction():
                postgresql.execute(statement, params)  # type: ignore[arg-type]
            return True, None
        except psycopg.Error as err:
            assert err.sqlstate == "NV400", (statement, params, err)
            detail = json.loads(err.diag.message_detail or "{}")
            return False, detail.get("field")

    probes = 0
    checkin_sample = {k: valid_value(checkin["properties"][k]) for k in checkin["required"]}
    required = checkin_sample
    for name, prop in checkin["properties"].items():
        for value, accepted in edge_cases(prop):
            ok, field = verdict("SELECT core.validate_checkin(%s)", (Jsonb({**checkin_sample, name: value}),))
            assert ok == accepted, ("check-in", name, value)
            assert ok or field == name, ("check-in", name, field)
            probes += 1
    for name in required:
        ok, _ = verdict("SELECT core.validate_checkin(%s)", (Jsonb({k: v for k, v in required.items() if k != name}),))
        assert not ok, ("check-in", name, "required")
    profile_fields = [n for n in signup["properties"] if n not in ("email", "password")]
    assert profile_fields == [
        r[0] for r in postgresql.execute("SELECT field FROM public.profile_fields ORDER BY position")
    ]
    for name in profile_fields:
        for value, accepted in edge_cases(signup["properties"][name]):
            if name == "nickname" and isinstance(value, str):
                value = value.replace("x", "y")
            ok, field = verdict("SELECT core.apply_profile(NULL, %s)", (Jsonb({name: value}),))
            assert ok == accepted, ("profile", name, value)
            assert ok or field == name, ("profile", name, field)
            probes += 1
    for alternative in event["oneOf"]:
        event_type = alternative["properties"]["event_type"]["const"]
        data = alternative["properties"]["event_data"]
        sample = {k: valid_value(data["properties"][k]) for k in data.get("required", [])}
        for name, prop in data["properties"].items():
            for value, accepted in edge_cases(prop):
                ok, field = verdict(
                    "SELECT core.validate_event_data(%s, %s)", (event_type, Jsonb({**sample, name: value}))
                )
                assert ok == accepted, (event_type, name, value)
                assert ok or field == f"event_data.{name}", (event_type, name, field)
                probes += 1
        for name in data.get("required", []):
            ok, _ = verdict(
                "SELECT core.validate_event_data(%s, %s)",
                (event_type, Jsonb({k: v for k, v in sample.items() if k != name})),
            )
            assert not ok, (event_type, name, "required")
    assert probes > 200, probes
