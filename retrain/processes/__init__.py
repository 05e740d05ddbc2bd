"""The servers the command line manages, apart from the commands that call them.

The home's shared Prefect server (``home_server``, kept by ``keeper``, its record in
``home_record`` and its usage lock in ``usage``), the servers of ``retrain ui``
(``ui_servers``) and the team servers on PostgreSQL (``team``, ``team_config``) each have
a record of what runs (``records``: one JSON file per record, written atomically), a way to
tell their processes from reused pids (``pids``) and a health check (``health``). Child
servers are started and stopped by ``service``. Only the standard library is imported here
(psycopg when team databases are created): no Typer, no Rich, no command module, no Prefect.
"""
