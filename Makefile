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

.PHONY: demo test install install-dev lint migrate serve worker beat bench clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PIP) install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

test: lint
	$(VENV)/bin/pytest $(PYTEST_ARGS)

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py collectstatic --noinput -v 0
	$(PY) manage.py setup_demo
	$(PY) manage.py runserver $(HOST):$(PORT)

serve: install
	$(PY) manage.py runserver $(HOST):$(PORT)

worker: install
	$(VENV)/bin/celery -A clmsite worker -Q default,ml,gpu,email --concurrency=2 --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A clmsite beat --loglevel=INFO

bench: install
	for script in bench/[!_]*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf var/ .pytest_cache .ruff_cache
