"""MkDocs hook (mkdocs.yml ``hooks:``): the Troubleshooting page's table, rendered from
``airflow_provider_datapump.hints`` at build time, so the table is written once, in the code.

A page asks for it with the line ``<!-- hints-table -->``. hints.py imports nothing from Airflow,
so the docs build still needs no Airflow.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

MARKER = "<!-- hints-table -->"


def on_page_markdown(markdown: str, **_: Any) -> str:
    if MARKER not in markdown:
        return markdown
    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:  # mkdocs runs from the repository; a plain import must find the package
        sys.path.insert(0, root)
    from airflow_provider_datapump.hints import markdown_table

    return markdown.replace(MARKER, markdown_table())
