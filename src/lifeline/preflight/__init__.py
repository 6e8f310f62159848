"""Preflight: whether a source database is ready for Debezium, and safe.

``lifeline preflight postgres|mysql`` reads the server's settings, the
connector account's rights and the captured tables' set-up, and reports each
check as pass, warn or fail with the SQL or setting that fixes it. Reading
(:mod:`~lifeline.preflight.postgres_facts`, :mod:`~lifeline.preflight.mysql_facts`)
is kept apart from judging (:mod:`~lifeline.preflight.postgres`,
:mod:`~lifeline.preflight.mysql`), and only :mod:`~lifeline.preflight.fixer`
ever changes a database, when asked to.
"""
