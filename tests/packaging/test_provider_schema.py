"""get_provider_info() against Airflow's own provider.yaml schema, the one that describes the
connection form (``conn-fields``, ``ui-field-behaviour``): a misspelt form field must fail here.

provider_info.schema.json (checked in tests/unit/test_provider_info.py) says nothing about the form,
so a typo there passed. provider.yaml.schema.json does, from Airflow 3.2; below that the installed
Airflow has no such description, so the copy next to this file (taken unchanged from
apache-airflow-core 3.3.2, Apache-2.0) is used on every version; where the installed Airflow has
its own, the provider info is validated against that one too.

Two rules are added on top, because Airflow's schema leaves them open and a typo there goes
unnoticed in the UI (the label or placeholder is silently not shown): a connection type carries only
keys the schema defines, and relabeling/placeholders name a standard field or a conn-field.
"""

from __future__ import annotations

import copy
import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from airflow_provider_datapump.get_provider_info import get_provider_info

HERE = Path(__file__).parent
VENDORED = json.loads((HERE / "provider.yaml.schema.json").read_text())
# provider.yaml also carries release bookkeeping that Airflow's own repo fills in ('state',
# 'source-date-epoch'); the runtime provider info never has it.
REPO_ONLY = {"state", "source-date-epoch"}


def _installed_schema() -> dict | None:
    path = resources.files("airflow").joinpath("provider.yaml.schema.json")
    if not path.is_file():
        return None
    schema = json.loads(path.read_text())
    conn = schema["properties"]["connection-types"]["items"]["properties"]
    return schema if "conn-fields" in conn else None


def _validator(base: dict | None = None, strict: bool = True) -> jsonschema.Draft7Validator:
    schema = copy.deepcopy(base or VENDORED)
    schema["required"] = [k for k in schema["required"] if k not in REPO_ONLY]
    if strict:
        schema["properties"]["connection-types"]["items"]["additionalProperties"] = False
    return jsonschema.Draft7Validator(schema)


def problems(info: dict) -> list[str]:
    """Every way ``info`` departs from the schema (plus the two rules above), as readable lines."""
    found = [f"{'/'.join(map(str, e.path)) or '<top>'}: {e.message}" for e in _validator().iter_errors(info)]
    behaviour_schema = VENDORED["properties"]["connection-types"]["items"]["properties"]["ui-field-behaviour"]
    standard = set(behaviour_schema["properties"]["hidden-fields"]["items"]["enum"])
    for conn in info.get("connection-types", []):
        known = standard | set(conn.get("conn-fields", {}))
        for part in ("relabeling", "placeholders"):
            for field in conn.get("ui-field-behaviour", {}).get(part, {}):
                if field not in known:
                    found.append(f"connection-types/{conn.get('connection-type')}/ui-field-behaviour/{part}: "
                                 f"{field!r} is neither a standard field nor a conn-field")
    return found


def test_provider_info_matches_airflows_provider_yaml_schema():
    assert problems(get_provider_info()) == []


def test_it_also_matches_this_airflows_own_schema():
    installed = _installed_schema()
    if installed is None:
        pytest.skip("this Airflow (below 3.2) ships no schema for conn-fields; the vendored 3.3.2 copy stands in")
    # As Airflow itself reads it: without the strict-keys rule, since 3.2's schema predates
    # hook-name (which 3.2 ignores).
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in _validator(installed, strict=False).iter_errors(get_provider_info())]
    assert errors == []


def _info_with(change):
    info = copy.deepcopy(get_provider_info())
    change(info["connection-types"][0])
    return info


@pytest.mark.parametrize(
    ("change", "words"),
    [
        # Each is a typo that Airflow would accept without a word and the form would just lack.
        (lambda c: c.__setitem__("conn-feilds", c.pop("conn-fields")), "conn-feilds"),
        (lambda c: c["conn-fields"]["verify"].__setitem__("lable", c["conn-fields"]["verify"].pop("label")), "lable"),
        (lambda c: c["conn-fields"]["timeout"]["schema"].__setitem__("type", "numbr"), "numbr"),
        (lambda c: c["conn-fields"]["auth_type"]["schema"].__setitem__("format", "passwrd"), "passwrd"),
        (lambda c: c["ui-field-behaviour"]["hidden-fields"].append("hots"), "hots"),
        (lambda c: c["ui-field-behaviour"].__setitem__("relabelling", {}), "relabelling"),
        (lambda c: c["ui-field-behaviour"]["relabeling"].__setitem__("pasword", "Secret"), "pasword"),
        (lambda c: c["ui-field-behaviour"]["placeholders"].__setitem__("auth_typ", "basic"), "auth_typ"),
        (lambda c: c.__setitem__("hook-class", c.pop("hook-class-name")), "hook-class"),
    ],
    ids=["conn-fields key", "field label", "field type", "field format", "hidden field",
         "behaviour key", "relabeled field", "placeholder field", "hook class key"],
)
def test_a_misspelt_form_field_fails(change, words):
    found = problems(_info_with(change))
    assert found, "the typo passed"
    assert any(words in line for line in found), found
