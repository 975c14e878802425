"""The hints table itself: complete, sourced, producible by the emulator, and rendered once for the docs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from airflow_provider_datapump.emulator.ora_texts import ORA_TEXT
from airflow_provider_datapump.hints import HINTS, Facts, facts_from, hint_block, hints_for, markdown_table
from airflow_provider_datapump.payloads import build_payload

ROOT = Path(__file__).resolve().parents[2]
# The codes issue #28 names; the table may hold more, never fewer.
ISSUE_CODES = {
    "ORA-39001", "ORA-39000", "ORA-31640", "ORA-39002", "ORA-39070", "ORA-29283", "ORA-39006",
    "ORA-39065", "ORA-65100", "ORA-39151", "ORA-31684", "ORA-31631", "ORA-01031", "ORA-20401",
    "ORA-20404", "ORA-39082", "ORA-01555", "ORA-01653", "ORA-39171",
}  # fmt: skip


def test_every_code_of_the_issue_is_in_the_table_once():
    codes = [h.code for h in HINTS]
    assert len(codes) == len(set(codes))
    assert ISSUE_CODES <= set(codes), sorted(ISSUE_CODES - set(codes))


@pytest.mark.parametrize("hint", HINTS, ids=lambda h: h.code)
def test_each_hint_is_sourced_and_the_emulator_can_produce_it(hint):
    assert hint.sources and all(s.strip() for s in hint.sources)
    assert hint.code in ORA_TEXT  # emulator/ora_texts.py writes it, with Oracle's text
    assert hint.message.split()[0].lower() in ORA_TEXT[hint.code].lower()  # the same message
    # Every placeholder has a value, known or not.
    values = Facts().values()
    hint.cause.format_map(values)
    hint.action.format_map(values)


def test_the_emulator_readme_lists_every_code_it_writes():
    readme = (ROOT / "airflow_provider_datapump" / "emulator" / "README.md").read_text()
    listed = readme.split("Listed in `ora_texts.py`:", 1)[1].split("The texts are Oracle's", 1)[0]
    assert set(re.findall(r"ORA-\d{5}", listed)) == set(ORA_TEXT)


def test_a_wrapper_is_shown_only_when_nothing_under_it_is_known():
    facts = Facts(operation="IMPORT", user="DP_IMPORT", directory="DP_STAGE", file="N_%U.DMP")
    chain = ["ORA-39001: invalid argument value", "ORA-39000: bad dump file specification"]
    assert [h.split(" ", 1)[0] for h in hints_for(chain, facts)] == ["ORA-39001", "ORA-39000"]
    chain.append('ORA-31640: unable to open dump file "/u01/dp/N_01.DMP" for read')
    (only,) = hints_for(chain, facts)
    assert only.startswith("ORA-31640") and "/u01/dp/N_01.DMP" in only and "DP_STAGE" in only
    assert hint_block(["ORA-99999: not in the table"], facts) == ""


def test_an_export_request_gives_its_schemas_and_ordss_default_directory():
    facts = facts_from(None, build_payload("EXPORT", schemas=["HR", "SALES"]), user="DP_EXPORT")
    assert facts.schemas == ("HR", "SALES") and facts.directory == "DATA_PUMP_DIR" and facts.operation == "EXPORT"
    (line,) = hints_for(["ORA-31655: no data or metadata objects selected for job"], facts)
    assert "matched nothing in HR, SALES" in line
    # A job the task did not submit (the sensor): its directory is not guessed.
    assert facts_from({"owner_name": "X", "operation": "EXPORT"}).directory is None


def test_names_come_from_the_line_before_the_request():
    # The request as the operators send it (payloads.build_payload), not a hand-made dict.
    body = build_payload("IMPORT", datapump_dir="DP_STAGE", credential_name="CRED",
                         file_name="https://objectstorage.example.com/n/ns/b/b/o/x_%U.dmp",
                         remap_schemas={"TESTUSER1": "TESTUSER2"})
    facts = facts_from({"owner_name": "DP_IMPORT", "operation": "IMPORT"}, body)
    assert facts.schemas == ("TESTUSER2",) and facts.directory == "DP_STAGE" and facts.credential == "CRED"
    (line,) = hints_for(["ORA-31631: privileges are required"], facts)
    assert "GRANT DATAPUMP_IMP_FULL_DATABASE TO DP_IMPORT" in line
    (line,) = hints_for(["ORA-20404: Object not found - https://objectstorage.example.com/n/ns/b/b/o/x_01.dmp"], facts)
    assert "x_01.dmp" in line and "'CRED'" in line
    (line,) = hints_for(["ORA-01918: user 'OTHER' does not exist"], facts)
    assert "Schema OTHER does not exist" in line


def test_the_docs_table_has_one_row_per_code_with_its_sources():
    table = markdown_table()
    rows = [r for r in table.splitlines() if r.startswith("| <span")]
    assert len(rows) == len(HINTS)
    for hint, row in zip(HINTS, rows, strict=True):
        assert f'id="{hint.code.lower()}"' in row
        # ORA-20xxx are DBMS_CLOUD's own (raise_application_error): Oracle's error reference has no page.
        assert (hint.error_reference in row) == ("Oracle error reference" in hint.sources)
        assert "](https://" in row
        assert row.count(" | ") == 3  # four cells: no stray pipe from the text


def test_the_readmes_example_is_what_the_code_writes():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("<!-- --8<-- [start:troubleshooting] -->", 1)[1].split("<!-- --8<-- [end:troubleshooting] -->")[0]
    (example,) = re.findall(r"^```text\n(.*?)^```", section, re.S | re.M)
    shown = example.split("What the ORA codes mean (airflow_provider_datapump.hints):\n", 1)[1]
    hint = shown.strip().removesuffix("...")
    facts = facts_from(None, {"operation": "IMPORT", "datapump_dir": "DP_STAGE", "file_name": "NIGHTLY_%U.DMP"},
                       user="DP_IMPORT")
    written = hint_block(example.split("What the ORA codes mean")[0].splitlines(), facts)
    assert hint in written, (hint, written)
