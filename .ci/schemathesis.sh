#!/usr/bin/env bash
# Fuzz the live API from its own OpenAPI schema with schemathesis and fail on any 5xx.
#
# Starts gunicorn on 127.0.0.1:$SCHEMATHESIS_PORT (DEBUG off) on a demo-sized database (the
# bundled real data and the pipelines of `manage.py setup_demo`), creates an API key holding
# every scope, and runs schemathesis bounded: at most $SCHEMATHESIS_EXAMPLES cases per
# operation and $SCHEMATHESIS_MAX_TIME seconds in all. Only the not_a_server_error check
# decides the exit code, with gunicorn's access log: any 5xx there fails the run. Reports (JUnit, JSON) go to $SCHEMATHESIS_WORK/report.
#
#   DATABASE_URL=postgres://... .ci/schemathesis.sh     # or no DATABASE_URL: SQLite in the work dir
#   SCHEMATHESIS_WORK=/tmp/st .ci/schemathesis.sh       # reuse the database made by an earlier run
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
PORT=${SCHEMATHESIS_PORT:-8111}
WORK=${SCHEMATHESIS_WORK:-$(mktemp -d -t clm-schemathesis.XXXXXX)}
EXAMPLES=${SCHEMATHESIS_EXAMPLES:-25}
MAX_TIME=${SCHEMATHESIS_MAX_TIME:-240}
mkdir -p "$WORK/report"

export CLM_VAR_DIR="$WORK/var" MODEL_DIR="${MODEL_DIR:-$WORK/var/models}" DEBUG=0 SECRET_KEY="schemathesis-$(date +%s)-not-a-dev-key" ALLOWED_HOSTS=127.0.0.1
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# The fuzzer sends thousands of requests: lift the per-key limit for this run only.
export API_KEY_RATE_LIMIT=1000000/hour API_RATE_LIMIT=1000000/hour API_ANON_RATE_LIMIT=1000000/hour LOG_LEVEL=${LOG_LEVEL:-ERROR}
# The assistant's public routes are fuzzed too: extractive answers (the LLM path has its own tests).
export ASSISTANT_LLM=none ASSISTANT_DENSE=false
unset REDIS_URL CELERY_BROKER_URL  # tasks run in-process: nothing else to start

echo "=== database ($([ -n "${DATABASE_URL:-}" ] && echo PostgreSQL || echo "SQLite under $WORK"))"
"$PY" manage.py migrate --noinput -v 0
if [ ! -f "$WORK/.demo-ready" ]; then
  "$PY" manage.py setup_demo | tail -n 3
  touch "$WORK/.demo-ready"
fi
KEY=$("$PY" manage.py create_api_key schemathesis --all-scopes --expires-days 1 --quiet)

echo "=== gunicorn on 127.0.0.1:${PORT}"
: > "$WORK/access.log"  # this run's requests only
.venv/bin/gunicorn clmsite.wsgi -b "127.0.0.1:${PORT}" -w 2 --timeout 60 --access-logfile "$WORK/access.log" \
  --error-logfile "$WORK/error.log" &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 60); do curl -fs "http://127.0.0.1:${PORT}/healthz" >/dev/null && break; sleep 1; done

echo "=== schemathesis: <= ${EXAMPLES} examples per operation, <= ${MAX_TIME} s"
set +e
.venv/bin/schemathesis run "http://127.0.0.1:${PORT}/api/schema/?format=json" \
  --header "Authorization: Bearer ${KEY}" \
  --checks not_a_server_error --max-examples "$EXAMPLES" --max-time "$MAX_TIME" \
  --phases examples,coverage,fuzzing --workers 2 --request-timeout 30 --seed 14 --no-color \
  --report junit,ndjson --report-dir "$WORK/report"
STATUS=$?
set -e
SERVED=$(wc -l < "$WORK/access.log")
SERVER_ERRORS=$(grep -cE '" 5[0-9]{2} ' "$WORK/access.log" || true)
echo "=== requests served: ${SERVED}, 5xx answers: ${SERVER_ERRORS}, schemathesis exit: ${STATUS}; reports in $WORK/report"
if [ "$SERVER_ERRORS" != "0" ]; then
  echo "server errors (tracebacks in the output above):" >&2
  grep -E '" 5[0-9]{2} ' "$WORK/access.log" | head -20 >&2
  exit 1
fi
# A run that barely reached the server proves nothing.
[ "$SERVED" -ge 500 ] || { echo "only ${SERVED} requests reached the server" >&2; exit 1; }
# Exit 1 from schemathesis with no 5xx is its own trouble (e.g. a generator error), reported above.
[ "$STATUS" = "0" ] || echo "schemathesis exited ${STATUS} without any server error: see its summary above" >&2
exit 0
