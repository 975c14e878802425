"""SQL for what the ORDS Database API cannot do, over oracledb or over ORDS's REST-Enabled SQL.

* ``statements``: every statement the provider sends, the one module of them.
* ``runners``: the ``SqlRunner`` protocol and its two transports, ``OracleDbRunner`` and ``RestSqlRunner``.
* ``operations``: stop a job, progress, read a log, drop control tables, users and identity, as
  functions of a runner.
"""

from airflow_provider_datapump.hooks.sql.runners import OracleDbRunner, RestSqlRunner, SqlRunner

__all__ = ["OracleDbRunner", "RestSqlRunner", "SqlRunner"]
