"""Observability: Prometheus metrics, key=value logs and ``lifeline status``.

:mod:`.metrics` defines every metric; :mod:`.tally` records a batch's
figures; :mod:`.server` serves them from a dataflow process; :mod:`.logs`
formats logs as ``key=value`` pairs with personal data and secrets masked;
:mod:`.status` reports on the whole deployment.
"""
