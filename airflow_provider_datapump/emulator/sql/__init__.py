"""ORDS REST-Enabled SQL in the emulator: statements understood by meaning, run against the backend.

``lexer`` splits a script and tokenizes PL/SQL; ``statements`` turns a statement into what it
means (DROP USER, DROP TABLE, a PL/SQL block, a query); ``plsql`` runs a block; ``query`` runs a
SELECT (parsed by sqlglot) over ``views``, the dictionary views built from the backend's model;
``service`` answers a ``_/sql`` request in ORDS's shape. ``ora`` holds Oracle's error texts.
Nothing here imports the HTTP layer; this module imports nothing, so the backend can use ``ora``.
"""
