#!/bin/sh
# The lifeline service of docker-compose.yml: apply the connectors (which also
# creates every topic the flows read and write), then run one dataflow of
# dataflows/ in the foreground with the recovery `lifeline flow start` uses.
# That command only starts flows in the background, which cannot be a
# container's main process, so Bytewax is started here directly.
#
#   run-flow.sh FLOW     FLOW: golden, skeleton or deliveries
set -eu
flow="${1:?usage: run-flow.sh FLOW (a module of dataflows/)}"
[ -f "dataflows/$flow.py" ] || { echo "no flow dataflows/$flow.py" >&2; exit 2; }

lifeline connectors apply

# Recovery on or off, the snapshot interval and the store's place come from
# the same LIFELINE_* settings the CLI reads.
eval "$(python - <<'PY'
import shlex

from lifeline.flows.runner import RECOVERY_PARTITIONS
from lifeline.settings import Settings

settings = Settings()
print("state=" + shlex.quote(str(settings.state_path)))
print(f"recovery={'on' if settings.flows.recovery else 'off'}")
print(f"interval={settings.flows.snapshot_interval}")
print(f"partitions={RECOVERY_PARTITIONS}")
PY
)"

set -- python -m bytewax.run "dataflows/$flow.py:flow" -w 1 -s "$interval"
if [ "$recovery" = on ]; then
  store="$state/recovery/$flow"
  if ! ls "$store"/part-*.sqlite3 >/dev/null 2>&1; then
    mkdir -p "$store"
    python -m bytewax.recovery "$store" "$partitions"
  fi
  set -- "$@" -r "$store" -b 0
fi
exec "$@"
