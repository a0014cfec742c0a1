#!/usr/bin/env bash
# The platform as several machines on one box: every role in its own network namespace with its
# own address on a bridge, talking to its own PostgreSQL and Redis over that network.
#
#   sudo deploy/netns-cluster.sh [--lines N] [--throttle N] [--visibility S] [--keep]
#
# Namespaces clm-pg, clm-redis, clm-web (gunicorn), clm-beat, clm-wdefault, clm-wml, clm-wemail1
# and clm-wemail2 (one Celery worker each, queues default / ml / email / email) hang off the
# bridge clmbr0, which lives in a namespace of its own (clm-net): no address, link or route of
# the host's own namespace is added or changed (checked at the end). PostgreSQL 15 and Redis are
# fresh instances of this script that listen only on their namespace's address.
#
# Run A: load the first N lines of the bundled Online Retail file through the queued import (the
# default worker), run the nightly jobs by sending beat's own entries (segment, churn, recommender,
# score), then the demo campaign started by beat's dispatch_due, mail to the file backend, one
# folder per worker start. Run B does the same on a fresh database, SIGKILLs the ml worker while
# the recommender trains and one email worker mid-campaign, and restarts both. Then
# deploy/compare_runs.py checks that scores, recommendations and segments equal run A's and that
# every selected recipient got exactly one message. Everything is torn down on exit (trap) and
# the teardown is verified. Log: var/log/netns-cluster-<UTC stamp>.log (and a folder beside it
# with the role logs, the dumps and the comparison).
#
# Needs root, ip (iproute2), /usr/lib/postgresql/15/bin, redis-server and the project's .venv.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY="$ROOT/.venv/bin/python"
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
LINES_WANTED=200000   # first lines of the 541,909: 2,707 customers, December 2010 to May 2011
THROTTLE=3000         # campaign messages per minute
# Seconds an unacknowledged task waits before Redis hands it out again: longer than the longest
# task (the recommender took 164 s at load 15 here; at 150 s its message came back while it ran).
VISIBILITY=300
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --lines) LINES_WANTED=$2; shift 2 ;;   # 0: the whole file
    --throttle) THROTTLE=$2; shift 2 ;;
    --visibility) VISIBILITY=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;               # keep the temporary folder (mail files, PostgreSQL data)
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

NET=10.77.0
BRIDGE=clmbr0
SWITCH=clm-net
ROLES=(pg redis web beat wdefault wml wemail1 wemail2)
declare -A HOST=([pg]=10 [redis]=11 [web]=12 [beat]=13 [wdefault]=14 [wml]=15 [wemail1]=16 [wemail2]=17)
PG_PORT=8270
REDIS_PORT=8271
WEB_PORT=8272
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
LOG="$ROOT/var/log/netns-cluster-$STAMP.log"
KEPT="$ROOT/var/log/netns-cluster-$STAMP"
WORK=""
SECRET=$(head -c 32 /dev/urandom | base64 | tr -d '/+=')

ip_of() { echo "$NET.${HOST[$1]}"; }
log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$LOG"; }
stamped() { while IFS= read -r line; do printf '%s   %s\n' "$(date -u +%H:%M:%S)" "$line"; done | tee -a "$LOG"; }
in_ns() { local role=$1; shift; ip netns exec "clm-$role" "$@"; }

# --- teardown (trap EXIT) -----------------------------------------------------------------
ns_stop() {
  local ns=$1 pids
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  [ -z "$pids" ] && return 0
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  for _ in $(seq 1 50); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -z "$pids" ] && return 0
    sleep 0.2
  done
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
  sleep 0.5
}

teardown() {
  local rc=$? leftovers=0
  set +e
  trap - EXIT INT TERM
  log "teardown (exit status $rc)"
  for role in "${ROLES[@]}"; do
    ns_stop "clm-$role"
    if [ -n "$(ip netns pids "clm-$role" 2>/dev/null)" ]; then log "LEFTOVER processes in clm-$role"; leftovers=1; fi
  done
  for role in "${ROLES[@]}" net; do
    if ip netns list | grep -qw "clm-$role"; then ip netns del "clm-$role"; fi
  done
  if ip netns list | grep -q '^clm-'; then log "LEFTOVER namespaces: $(ip netns list | grep '^clm-' | tr '\n' ' ')"; leftovers=1; fi
  if ip -o link show | grep -Eq "$BRIDGE|v-($(IFS='|'; echo "${ROLES[*]}"))@"; then log "LEFTOVER links in the host namespace"; leftovers=1; fi
  if pgrep -f -- "clm-cluster\.|@clm-w|$NET\." >/dev/null; then log "LEFTOVER processes: $(pgrep -f -- "clm-cluster\.|@clm-w|$NET\." | tr '\n' ' ')"; leftovers=1; fi
  if [ -f "$KEPT/host-before.txt" ]; then
    host_state >"$KEPT/host-after.txt"
    if diff -u "$KEPT/host-before.txt" "$KEPT/host-after.txt" >"$KEPT/host-diff.txt"; then
      log "host namespace: addresses, links and routes as before the run"
    else
      log "host namespace CHANGED (see $KEPT/host-diff.txt)"; leftovers=1
    fi
  fi
  if [ -n "$WORK" ] && [ "$KEEP" = 0 ]; then rm -rf "$WORK"; elif [ -n "$WORK" ]; then log "kept $WORK"; fi
  [ "$leftovers" = 0 ] && log "teardown verified: no clm-* namespace, no $BRIDGE or v-* link, no process of this run left"
  if [ "$rc" = 0 ] && [ "$leftovers" = 0 ]; then log "DONE: all checks passed"; else log "FAILED (exit status $rc, leftovers $leftovers)"; fi
  [ "$rc" = 0 ] && exit "$leftovers"
  exit "$rc"
}

host_state() {  # the host namespace's own addresses, links (names and state) and routes
  ip -o addr show | awk '{print $2, $3, $4}'
  ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//'
  ip route show
}

# --- network ------------------------------------------------------------------------------
preflight() {
  [ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 1; }
  for tool in ip redis-server "$PGBIN/postgres" "$PY"; do command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }; done
  if ip netns list | grep -q '^clm-'; then echo "clm-* namespaces exist already: another run? ($(ip netns list | grep '^clm-' | tr '\n' ' '))" >&2; exit 1; fi
  if ip link show "$BRIDGE" >/dev/null 2>&1; then echo "$BRIDGE exists in the host namespace already" >&2; exit 1; fi
  if ip -o addr show | grep -q "inet $NET\."; then echo "$NET.0/24 is in use on this host" >&2; exit 1; fi
}

network_up() {
  ip netns add "$SWITCH"
  ip -n "$SWITCH" link set lo up
  ip -n "$SWITCH" link add "$BRIDGE" type bridge
  ip -n "$SWITCH" link set "$BRIDGE" up
  for role in "${ROLES[@]}"; do
    ip netns add "clm-$role"
    ip -n "clm-$role" link set lo up
    # both ends are made inside the namespaces: the host's namespace never holds either
    ip -n "$SWITCH" link add "v-$role" type veth peer name eth0 netns "clm-$role"
    ip -n "$SWITCH" link set "v-$role" master "$BRIDGE" up
    ip -n "clm-$role" addr add "$(ip_of "$role")/24" dev eth0
    ip -n "clm-$role" link set eth0 up
  done
  log "network: bridge $BRIDGE in namespace $SWITCH; $(for r in "${ROLES[@]}"; do printf 'clm-%s=%s ' "$r" "$(ip_of "$r")"; done)"
}

# --- services -----------------------------------------------------------------------------
services_up() {
  mkdir -p "$WORK/pg" "$WORK/pgsock" "$WORK/redis"
  chown postgres "$WORK/pg" "$WORK/pgsock"
  runuser -u postgres -- "$PGBIN/initdb" -D "$WORK/pg" -U postgres -A trust -E UTF8 --no-sync >/dev/null
  echo "host all all $NET.0/24 trust" >>"$WORK/pg/pg_hba.conf"
  # a throw-away cluster: no fsync (the kills below are of workers, not of the database server)
  in_ns pg runuser -u postgres -- "$PGBIN/postgres" -D "$WORK/pg" -p "$PG_PORT" -k "$WORK/pgsock" \
    -c listen_addresses="$(ip_of pg)" -c fsync=off -c full_page_writes=off -c shared_buffers=256MB \
    >"$KEPT/pg.log" 2>&1 &
  in_ns redis redis-server --bind "$(ip_of redis)" --port "$REDIS_PORT" --save '' --appendonly no \
    --protected-mode no --dir "$WORK/redis" >"$KEPT/redis.log" 2>&1 &
  for _ in $(seq 1 60); do
    in_ns web "$PGBIN/pg_isready" -q -h "$(ip_of pg)" -p "$PG_PORT" && break
    sleep 0.5
  done
  in_ns web "$PGBIN/pg_isready" -h "$(ip_of pg)" -p "$PG_PORT" | stamped
  in_ns web redis-cli -h "$(ip_of redis)" -p "$REDIS_PORT" ping | stamped
}

# --- one run ------------------------------------------------------------------------------
run_env() {  # the environment every role of run $1 gets (what a host's unit file would set)
  local label=$1 db=$2
  ENV=(
    DATABASE_URL="postgres://postgres@$(ip_of pg):$PG_PORT/clm_$label"
    REDIS_URL="redis://$(ip_of redis):$REDIS_PORT/$db"
    MODEL_DIR="$RUN/shared/models" MEDIA_DIR="$RUN/shared/media" CLM_VAR_DIR="$RUN/var"
    DEBUG=0 SECRET_KEY="$SECRET" ALLOWED_HOSTS="$(ip_of web)" HOST="$(ip_of web)" PORT="$WEB_PORT"
    EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend
    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 TORCH_THREADS=1 TOKENIZERS_PARALLELISM=false
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 LOG_LEVEL=INFO
    # recovery within the run's minutes instead of production's hour: an unacked task comes back
    # after CELERY_VISIBILITY_TIMEOUT, a dead worker's job is failed after JOB_STALE_SECONDS, a
    # killed sender's claimed rows after CAMPAIGN_LEASE_SECONDS (under 30 s: every message records
    # its hand-over, so the kill below can pick a moment with none in flight)
    CELERY_VISIBILITY_TIMEOUT="$VISIBILITY" JOB_HEARTBEAT_SECONDS=5 JOB_STALE_SECONDS=30
    CAMPAIGN_LEASE_SECONDS=20 CAMPAIGN_STALL_SECONDS=15 CAMPAIGN_DISPATCH_SECONDS=10 CAMPAIGN_SEND_CONCURRENCY=2
  )
}

role_start() {  # role_start ROLE LOGNAME COMMAND...: in the role's namespace, in the background
  local role=$1 name=$2; shift 2
  mkdir -p "$RUN/mail/$name"
  in_ns "$role" env "${ENV[@]}" EMAIL_FILE_PATH="$RUN/mail/$name" nice -n 10 "$@" >"$RUN/logs/$name.log" 2>&1 &
  log "started $name in clm-$role ($(ip_of "$role")): $(basename "$1") ${*:2:5}"
}

worker_start() {  # worker_start ROLE QUEUE INCARNATION
  role_start "$1" "$1-$3" "$PY" -m celery -A clmsite worker -Q "$2" -n "$1-$3@clm-$1" --pool=solo \
    --without-gossip --without-mingle --loglevel=INFO
}

ctl() { local role=$1; shift; in_ns "$role" env "${ENV[@]}" LOG_LEVEL=WARNING nice -n 10 "$PY" "$ROOT/deploy/cluster_ctl.py" "$@" 2>&1 | stamped; }

nightly_job() {  # nightly_job ENTRY KIND [kill]: beat's entry sent and waited for; or the ml worker killed mid-job
  local entry=$1 kind=$2 kill=${3:-}
  if [ -z "$kill" ]; then ctl beat job "$entry" "$kind" --timeout 900; return; fi
  # shellcheck disable=SC2046
  ctl beat job "$entry" "$kind" --after-file "$RUN/after" --kill-after 20 --pids $(ip netns pids clm-wml)
  sleep 1
  [ -z "$(ip netns pids clm-wml)" ] && log "ml worker gone: no process left in clm-wml"
  worker_start wml ml 2
  log "ml worker restarted; the killed task, never acknowledged (acks_late), comes back after the visibility timeout"
  ctl beat wait-job "$kind" --after "$(cat "$RUN/after")" --timeout 900
}

run_once() {  # run_once LABEL REDIS_DB KILLS(0|1)
  local label=$1 kills=$3
  RUN="$WORK/run-$label"
  mkdir -p "$RUN/logs" "$RUN/shared/models" "$RUN/shared/media" "$RUN/var/staticfiles"
  run_env "$label" "$2"
  log "=== run $label ($([ "$kills" = 1 ] && echo 'with SIGKILLs' || echo 'no kills')): database clm_$label, Redis db $2, model storage $RUN/shared/models"
  in_ns web "$PGBIN/createdb" -h "$(ip_of pg)" -p "$PG_PORT" -U postgres -T clm_template "clm_$label"
  role_start web web "$ROOT/.venv/bin/gunicorn" clmsite.wsgi --bind "$(ip_of web):$WEB_PORT" --workers 2 --chdir "$ROOT"
  role_start beat beat "$PY" -m celery -A clmsite beat --loglevel=INFO
  worker_start wdefault default 1
  worker_start wml ml 1
  worker_start wemail1 email 1
  worker_start wemail2 email 1
  for _ in $(seq 1 60); do in_ns beat curl -fs "http://$(ip_of web):$WEB_PORT/healthz" >/dev/null && break; sleep 1; done
  log "clm-beat -> web: GET /healthz: $(in_ns beat curl -s "http://$(ip_of web):$WEB_PORT/healthz" | head -c 200)"
  ctl web import-queued "$WORK/orders.csv.gz" --timeout 600
  nightly_job segment-customers-nightly segment_customers
  nightly_job train-churn-weekly train_churn
  nightly_job train-recommender-nightly train_recommender "$([ "$kills" = 1 ] && echo kill)"
  nightly_job score-customers-nightly score_customers
  if [ "$kills" = 1 ]; then
    # shellcheck disable=SC2046
    ctl web campaign --throttle "$THROTTLE" --kill-share 0.3 --pids $(ip netns pids clm-wemail1)
    sleep 1
    [ -z "$(ip netns pids clm-wemail1)" ] && log "email worker 1 gone: no process left in clm-wemail1"
    worker_start wemail1 email 2
    log "email worker 1 restarted (new mail folder); its claimed rows come back when their lease ends"
    ctl beat wait-campaign --timeout 600
  else
    ctl web campaign --throttle "$THROTTLE" --timeout 600
  fi
  ctl web dump "$KEPT/dump-$label.json"
  for role in web beat wdefault wml wemail1 wemail2; do ns_stop "clm-$role"; done
  grep -hE "Task .*(succeeded|raised|retry)|KILL|WorkerLost|Restoring|ERROR" "$RUN"/logs/*.log | cut -c1-220 | tail -n 40 >"$KEPT/tasks-$label.txt" || true
  mkdir -p "$KEPT/run-$label" && cp "$RUN"/logs/*.log "$KEPT/run-$label/"
  log "=== run $label finished; role logs in $KEPT/"
}

main() {
  preflight
  mkdir -p "$ROOT/var/log" "$KEPT"
  host_state >"$KEPT/host-before.txt"
  WORK=$(mktemp -d /tmp/clm-cluster.XXXXXX)
  chmod 755 "$WORK"
  trap teardown EXIT
  trap 'exit 130' INT TERM
  log "netns cluster run $STAMP on $(hostname), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); commit $(git -C "$ROOT" describe --always --dirty); lines $LINES_WANTED, throttle $THROTTLE/min, visibility timeout $VISIBILITY s"
  network_up
  services_up
  "$PY" - "$ROOT/data/online_retail.csv.gz" "$WORK/orders.csv.gz" "$LINES_WANTED" <<'EOF'
import gzip, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with gzip.open(src, "rb") as fin, gzip.open(dst, "wb", compresslevel=1) as fout:
    for i, line in enumerate(fin):
        if n and i > n:
            break
        fout.write(line)
EOF
  log "order file: $( [ "$LINES_WANTED" = 0 ] && echo 'all' || echo "first $LINES_WANTED") lines of data/online_retail.csv.gz"
  RUN="$WORK/run-template"; mkdir -p "$RUN/var"; run_env template 15
  in_ns web "$PGBIN/createdb" -h "$(ip_of pg)" -p "$PG_PORT" -U postgres clm_template
  in_ns web env "${ENV[@]}" nice -n 10 "$PY" "$ROOT/manage.py" migrate --noinput -v 0 2>&1 | stamped
  log "migrated clm_template (each run's database is a fresh copy of it)"
  run_once a 0 0
  run_once b 1 1
  log "=== equality check"
  "$PY" "$ROOT/deploy/compare_runs.py" "$KEPT/dump-a.json" "$KEPT/dump-b.json" --tolerance 1e-9 \
    --mail-a "$WORK"/run-a/mail/wemail* --mail-b "$WORK"/run-b/mail/wemail* 2>&1 | stamped
}

main "$@"
