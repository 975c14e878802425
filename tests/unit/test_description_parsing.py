"""Reading an OpenAPI description (issue 27), on documents shaped the ways a server may shape them:
paths with or without a leading slash, relative to a ``servers`` URL at the Database API root or
below it, bodies behind ``$ref`` (to a schema or to a shared request body), ``allOf``."""

from __future__ import annotations

import pytest

from airflow_provider_datapump.exceptions import DataPumpValidationError
from airflow_provider_datapump.hooks.ords.description import (
    DescriptionError,
    _canonical,
    body_for_description,
    parse_description,
)

EXPRESSIONS = {"type": "array", "items": {"type": "object", "properties": {"expression": {"type": "string"}}}}


def doc(paths, servers=None, components=None, version="25.4.0"):
    out = {"openapi": "3.0.0", "info": {"version": version}, "paths": paths, "components": components or {}}
    if servers is not None:
        out["servers"] = [{"url": servers}]
    return out


def post(schema):
    return {"post": {"requestBody": {"content": {"application/json": {"schema": schema}}}}}


def test_the_shape_oracles_reference_pages_show():
    components = {"schemas": {
        "JobMode": {"type": "string", "enum": ["FULL", "SCHEMA", "TABLE", "TABLESPACE"]},
        "DatabaseDatapumpExportRequest": {"type": "object", "properties": {
            "job_mode": {"$ref": "#/components/schemas/JobMode"},
            "keep_master": {"type": "integer", "enum": [0, 1]},
            "schema_expressions": EXPRESSIONS}},
    }}
    found = parse_description(doc({"/database/datapump/export": post({"$ref": "#/components/schemas/DatabaseDatapumpExportRequest"}),
                                   "/database/datapump/jobs/": {"get": {}}},
                                  servers="https://db.example.com/ords/hr/_/db-api/stable/", components=components))
    assert found.version == "25.4.0" and set(found.endpoints) == {"export"}  # jobs/ has no POST here
    props = found.endpoints["export"]
    assert props["job_mode"].enum == ("FULL", "SCHEMA", "TABLE", "TABLESPACE") and props["job_mode"].type == "string"
    assert props["keep_master"].type == "integer"
    assert props["schema_expressions"].items.properties["expression"].type == "string"


@pytest.mark.parametrize(
    ("servers", "paths"),
    [
        pytest.param(None, ["database/datapump/export", "database/datapump/import", "database/datapump/jobs/"], id="no leading slash"),
        pytest.param("/ords/hr/_/db-api/stable/database/datapump", ["/export", "/import", "/jobs"], id="relative to a deeper servers URL"),
        pytest.param("https://h/ords/_/db-api/latest", ["/database/datapump/export/", "/database/datapump/import", "/database/datapump/jobs/"], id="absolute servers URL"),
    ],
)
def test_paths_match_tolerantly(servers, paths):
    schema = {"type": "object", "properties": {"threads": {"type": "integer"}}}
    found = parse_description(doc({p: post(schema) for p in paths}, servers=servers))
    assert set(found.endpoints) == {"export", "import", "jobs"}


def test_the_body_comes_from_request_body_refs_and_all_of_not_from_a_schema_name():
    components = {
        "requestBodies": {"Import": {"content": {"application/json": {"schema": {"allOf": [
            {"$ref": "#/components/schemas/Base"},
            {"type": "object", "properties": {"table_exists_action": {"type": "string", "enum": ["SKIP", "REPLACE"]}}},
        ]}}}}},
        "schemas": {"Base": {"type": "object", "properties": {"file_name": {"type": "string"}}},
                    # A schema named as Oracle names it, but no path uses it: it declares nothing.
                    "DatabaseDatapumpImportRequest": {"type": "object", "properties": {"filter": {"type": "string"}}}},
    }
    found = parse_description(doc({"/database/datapump/import": {"post": {"requestBody": {"$ref": "#/components/requestBodies/Import"}}}},
                                  components=components))
    assert set(found.endpoints["import"]) == {"file_name", "table_exists_action"}


def test_a_ref_loop_describes_no_body_instead_of_hanging():
    components = {"schemas": {"A": {"$ref": "#/components/schemas/B"}, "B": {"$ref": "#/components/schemas/A"}}}
    found = parse_description(doc({"/database/datapump/export": post({"$ref": "#/components/schemas/A"})}, components=components))
    assert found.offers("export") and found.endpoints["export"] is None


def test_an_endpoint_whose_body_is_not_described_takes_the_tables_keys():
    """A server may declare the endpoint with a free-form body (19c's pages showed "additional
    properties allowed"): it exists, and which keys it takes is the table's to say."""
    found = parse_description(doc({"/database/datapump/export": {"post": {}},
                                   "/database/datapump/jobs/": post({"type": "object", "additionalProperties": True})}))
    assert found.endpoints == {"export": None, "jobs": None}
    body = {"operation": "EXPORT", "job_mode": "SCHEMA", "keep_master": 1}
    assert body_for_description(body, None, found) == ("export", {"job_mode": "SCHEMA", "keep_master": 1})
    with pytest.raises(DataPumpValidationError, match="export and import endpoints"):
        body_for_description(body, "jobs", found)  # the table: keep_master is not a jobs/ key


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ([], "not a JSON object"),
        ({"swagger": "2.0", "paths": {}}, "not an OpenAPI 3"),
        (doc({"/database/pdbs/": post({})}), "no Data Pump create endpoint"),
    ],
)
def test_what_is_no_description(document, words):
    with pytest.raises(DescriptionError, match=words):
        parse_description(document)


def test_the_server_decides_what_is_sent():
    schema = {"type": "object", "properties": {
        "job_mode": {"type": "string", "enum": ["SCHEMA", "TABLE"]}, "keep_master": {"type": "boolean"},
        "name_expressions": EXPRESSIONS, "file_name": {"type": "string"}}}
    found = parse_description(doc({"/database/datapump/import": post(schema)}, version="27.1.0"))
    body = {"operation": "IMPORT", "job_mode": "TABLE", "file_name": "X.DMP", "keep_master": 1,
            "name_expressions": [{"expression": "= 'EMP'"}]}
    endpoint, sent = body_for_description(body, None, found)
    assert endpoint == "import" and "operation" not in sent and sent["keep_master"] is True  # 0/1 as the declared boolean
    for extra, field, words in [
        ({"threads": 2}, "threads", "this ORDS (27.1.0) does not declare threads on import"),
        ({"job_mode": "FULL"}, "job_mode", "is not one of SCHEMA, TABLE"),
        ({"name_expressions": [{"expression": "= 'EMP'", "flags": "i"}]}, "name_expressions[0].flags", "does not declare it"),
    ]:
        with pytest.raises(DataPumpValidationError) as err:
            body_for_description({**body, **extra}, None, found)
        assert err.value.field == field and words in err.value.reason


def test_the_canonical_link_of_the_catalog_as_ords_sent_it():
    seen = {"items": [{"name": "default", "links": [{"rel": "canonical",
            "href": "https://localhost:8888/ords/_/db-api/stable/metadata-catalog/openapi.json",
            "mediaType": "application/vnd.oai.openapi+json;version=3.0"}]}],
            "links": [{"rel": "self", "href": "https://localhost:8888/ords/_/db-api/stable/metadata-catalog/"},
                      {"rel": "describes", "href": "https://localhost:8888/ords/_/db-api/stable/"}]}
    assert _canonical(seen) == "https://localhost:8888/ords/_/db-api/stable/metadata-catalog/openapi.json"
    assert _canonical({"links": [{"rel": "alternate", "href": "x/openapi.json"}]}) == "x/openapi.json"
    assert _canonical({"items": "nonsense"}) is None
