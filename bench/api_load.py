"""Load on the partner API: 20 concurrent clients on loopback against runserver and gunicorn.

Each client alternates GET /api/v1/customers/<id>/recommendations?k=10 and
GET /api/v1/customers/<id> for random demo customers, with a scoped API key, one new TCP
connection a request (as gunicorn's sync workers close them). Bounded: --requests in all,
--seconds at most per server. Prints p50 / p95 / p99, throughput, errors and the load average.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/clm_api python bench/api_load.py
    python bench/api_load.py --servers gunicorn --gunicorn-args "-w 4"

The database must hold the demo (manage.py setup_demo); with no customers the bench runs
import_demo_data and train_recommender --fast first. Servers run with DEBUG=0 on ports
8112 (runserver) and 8113 (gunicorn) of 127.0.0.1. runserver runs with DB_CONN_MAX_AGE=0: it
starts a thread per request, and with kept connections (the default 60 s) 2,000 requests
opened more PostgreSQL connections than the server allows (29% of answers were 500).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shlex
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/clm_api"


def manage(env: dict, *args: str) -> str:
    return subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout.strip()


def ensure_demo(env: dict) -> None:
    manage(env, "migrate", "--noinput", "-v", "0")
    count = manage(env, "shell", "-v", "0", "-c", "from customers.models import Customer; print(Customer.objects.count())").splitlines()[-1]
    if int(count) == 0:
        print("empty database: importing the demo data and training the recommender (--fast)", flush=True)
        manage(env, "import_demo_data")
        manage(env, "train_recommender", "--fast")


def customer_ids(env: dict, n: int = 500) -> list[str]:
    code = f"from customers.models import Customer; print('\\n'.join(Customer.objects.order_by('?').values_list('external_id', flat=True)[:{n}]))"
    return [quote(ext, safe="") for ext in manage(env, "shell", "-v", "0", "-c", code).splitlines() if ext]


def start(server: str, port: int, env: dict, gunicorn_args: str) -> subprocess.Popen:
    if server == "runserver":
        cmd = [PY, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]  # threaded, as the issue ran it
    else:
        cmd = [str(ROOT / ".venv" / "bin" / "gunicorn"), "clmsite.wsgi", "-b", f"127.0.0.1:{port}", *shlex.split(gunicorn_args)]
    if server == "runserver":  # a thread per request: kept connections would pile up to max_connections
        env = {**env, "DB_CONN_MAX_AGE": "0"}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(120):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status in (200, 503):
                return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"{server} did not start on port {port}")


def drive(port: int, key: str, ids: list[str], clients: int, total: int, seconds: float) -> tuple[list[float], Counter, float]:
    latencies: list[float] = []
    errors: Counter = Counter()
    lock = threading.Lock()
    left = [total]
    deadline = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}

    def client(seed: int) -> None:
        rng = random.Random(seed)
        turn = seed
        while time.monotonic() < deadline:
            with lock:
                if left[0] <= 0:
                    return
                left[0] -= 1
            ext = rng.choice(ids)
            path = f"/api/v1/customers/{ext}/recommendations?k=10" if turn % 2 == 0 else f"/api/v1/customers/{ext}"
            turn += 1
            began = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                conn.close()
                outcome = None if response.status == 200 else f"HTTP {response.status}"
            except (OSError, http.client.HTTPException) as exc:
                outcome = type(exc).__name__
            elapsed = (time.perf_counter() - began) * 1000
            with lock:
                latencies.append(elapsed)
                if outcome:
                    errors[outcome] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, time.monotonic() - began


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else (values[0] if values else float("nan"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", default="runserver,gunicorn")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=2000, help="per server")
    parser.add_argument("--seconds", type=float, default=60.0, help="at most, per server")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--gunicorn-args", default="-w 4 --timeout 60")
    args = parser.parse_args()

    env = {**os.environ, "DATABASE_URL": os.environ.get("DATABASE_URL", DEFAULT_DB), "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1",
           "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-api-load-not-the-dev-key"), "API_KEY_RATE_LIMIT": "10000000/hour",
           "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"), "LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    if env["DATABASE_URL"].startswith("postgres"):
        sys.path.insert(0, str(ROOT / "bench"))
        from _pg import database_ensure

        database_ensure(env["DATABASE_URL"])
    ensure_demo(env)
    ids = customer_ids(env)
    key = manage(env, "create_api_key", "bench api_load", "--scope", "read:customers", "--scope", "read:recommendations", "--expires-days", "1", "--quiet")
    results = {}
    for port, server in zip((8112, 8113), ("runserver", "gunicorn"), strict=True):
        if server not in args.servers.split(","):
            continue
        proc = start(server, port, env, args.gunicorn_args)
        try:
            drive(port, key, ids, args.clients, args.warmup, 30)
            load_before = os.getloadavg()[0]
            latencies, errors, wall = drive(port, key, ids, args.clients, args.requests, args.seconds)
            load_after = os.getloadavg()[0]
        finally:
            proc.terminate()
            proc.wait(timeout=20)
        results[server] = {
            "requests": len(latencies), "errors": sum(errors.values()), "error_kinds": dict(errors), "seconds": round(wall, 1), "req_per_s": round(len(latencies) / wall, 1),
            "p50_ms": round(pct(latencies, 50), 1), "p95_ms": round(pct(latencies, 95), 1), "p99_ms": round(pct(latencies, 99), 1),
            "load_1min_before_after": [round(load_before, 2), round(load_after, 2)],
            "server": "runserver (threaded)" if server == "runserver" else f"gunicorn {args.gunicorn_args}",
        }
        print(f"{server:9s} {json.dumps(results[server])}", flush=True)
    print(f"cores: {os.cpu_count()}, clients: {args.clients} (threads of this process, on the same cores)")


if __name__ == "__main__":
    main()
