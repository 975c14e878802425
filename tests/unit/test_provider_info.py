"""The provider registers with Airflow the way Airflow itself checks providers."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema

from airflow_provider_datapump.get_provider_info import get_provider_info


def test_provider_info_matches_airflows_schema():
    schema = json.loads(resources.files("airflow").joinpath("provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)


def test_listed_modules_and_classes_import():
    import importlib

    info = get_provider_info()
    for section in ("hooks", "operators", "sensors", "triggers"):
        for entry in info[section]:
            for module in entry["python-modules"]:
                importlib.import_module(module)
    for path in [*info["extra-links"], *(c["hook-class-name"] for c in info["connection-types"])]:
        module, _, name = path.rpartition(".")
        assert hasattr(importlib.import_module(module), name), path


def test_conn_fields_cover_every_extra_the_hook_reads():
    fields = get_provider_info()["connection-types"][0]["conn-fields"]
    assert set(fields) == {"auth_type", "verify", "timeout", "api_version", "ords_version", "protocol", "lineage_database"}
    for spec in fields.values():
        assert spec["label"] and spec["description"] and "type" in spec["schema"]


def test_providers_manager_finds_the_package():
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert "airflow-provider-datapump" in manager.providers
    hooks = manager.hooks
    assert hooks["ords"].hook_class_name == "airflow_provider_datapump.hooks.datapump.DataPumpHook"
    from airflow_provider_datapump._compat import AIRFLOW_VERSION

    if AIRFLOW_VERSION.release < (3, 2):
        # Below 3.2 Airflow reads the form only from hook methods, which the hook does not have:
        # the form shows the standard fields, extras go into Extra (README, Airflow versions).
        assert "ords" not in manager.field_behaviours
        return
    behaviour = manager.field_behaviours["ords"]
    assert behaviour["hidden_fields"] == ["extra"]
    assert behaviour["relabeling"]["host"] == "ORDS base URL"
    widgets = manager.connection_form_widgets
    assert "extra__ords__auth_type" in widgets and "extra__ords__verify" in widgets
