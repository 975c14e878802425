"""The parts behind ``DataPumpHook`` (``hooks/datapump.py``), one job each.

* ``settings``: the Airflow connection, checked.
* ``policy``: retry, link origin, the file-name rule and the URL redactor.
* ``auth``: Basic, or an OAuth2 token.
* ``errors``: an answer (or its absence) as the provider's exception.
* ``instructions``: what a flow yields: Request, Download, Sleep.
* ``attempts``: the one attempt state machine (retry, 401 refresh, rewind before retry).
* ``transport``: the one seam every request leaves through, sync and async; the flow drivers.
* ``refs``: job references.
* ``flows`` and ``identity``: the operations, as flows of their inputs.
"""

__all__: list[str] = []
