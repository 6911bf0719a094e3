# Vårdkontakt: `make demo` runs the platform, `make test` proves it. Both set everything up first,
# and a second run reuses what is installed (stamps keyed on the lock files).
SHELL := /bin/bash
.DEFAULT_GOAL := help

export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/.venv
PYTHON_BIN ?= python3.11
UV_VERSION := 0.13.9
UV := .tools/bin/uv
PY := .venv/bin/python
# Production is the settings' default; these targets are the demo and development, and say so.
MANAGE := VK_DEMO=true DJANGO_DEBUG=false $(PY) manage.py
STATIC_BUILD := src/vardkontakt/static/vardkontakt/build
CHROMIUM := /usr/bin/chromium

.PHONY: help build setup demo test test-shifted lint lint-shell types migrations-check pytest bench fuzz-fhir faults messages clean \
	chromium clamav sshd coturn gettext pango redis apt nginx shellcheck psql postgresql-server deploy-smoke restore-drill \
	pgbouncer nodes-up nodes-down

help:
	@echo "make demo   - set up, load the demo region, serve on http://127.0.0.1:8000 with the worker"
	@echo "make test   - set up, then lint, types, migrations check and the whole test suite"
	@echo "make test-shifted - the suite again with the clock moved ahead, compared with the last make test"
	@echo "make bench NAME=... - run a benchmark from bench/, writing bench/results/NAME.json"
	@echo "make fuzz-fhir [FUZZ_BUDGET=10000] - schemathesis against a live FHIR API: no 5xx, nothing outside its scope"
	@echo "make deploy-smoke - deploy/ (nginx, systemd units' commands, PostgreSQL roles) up on this machine, checked over HTTPS"
	@echo "make restore-drill - base backup, WAL archive and point-in-time recovery into a new cluster, checked"
	@echo "make nodes-up [DIR=...] - nginx, two web nodes, PgBouncer, primary + replica, Redis, two workers on this machine"

$(UV):
	@command -v $(PYTHON_BIN) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON_BIN) not found)"; exit 1; }
	$(PYTHON_BIN) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

.venv/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --python $(PYTHON_BIN)
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

$(STATIC_BUILD)/.built: node_modules/.installed assets/scss/main.scss
	@mkdir -p $(STATIC_BUILD)
	node_modules/.bin/sass --no-source-map --style=compressed --load-path=node_modules --quiet-deps \
		assets/scss/main.scss $(STATIC_BUILD)/main.css
	cp node_modules/nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.js $(STATIC_BUILD)/nhsuk-frontend.min.js
	@# The icons the stylesheet names (url(images/...)): without them production's collectstatic
	@# (ManifestStaticFilesStorage) refuses the stylesheet.
	@mkdir -p $(STATIC_BUILD)/images
	for icon in $$(grep -o 'images/nhsuk-icon-[a-z0-9-]*\.svg' $(STATIC_BUILD)/main.css | sort -u); do \
		cp node_modules/nhsuk-frontend/dist/nhsuk/assets/$$icon $(STATIC_BUILD)/$$icon; done
	@touch $@

messages: .venv/.synced gettext
	cd src/vardkontakt && VK_DEMO=true ../../$(PY) ../../manage.py compilemessages --verbosity 0

# What an installation runs: the environment, the theme, the translations, WeasyPrint's libraries.
build: .venv/.synced $(STATIC_BUILD)/.built messages pango

setup: build
	@mkdir -p var/static
	$(MANAGE) migrate --verbosity 0

demo: setup
	$(MANAGE) load_demo
	$(MANAGE) serve_demo

# System packages: gettext compiles the translations, Chromium runs the browser tests, Pango (with
# HarfBuzz's subsetter and a font) lets WeasyPrint lay out PDFs without fetching anything.
PANGO_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core

gettext:
	@command -v msgfmt >/dev/null || $(MAKE) --no-print-directory apt PACKAGE=gettext

chromium:
	@test -x $(CHROMIUM) || $(MAKE) --no-print-directory apt PACKAGE=chromium

# ClamAV's daemon scans uploads where VK_CLAMAV_SOCKET is set; the tests start their own clamd.
clamav:
	@test -x /usr/sbin/clamd || $(MAKE) --no-print-directory apt PACKAGE=clamav-daemon

# OpenSSH's server: the tests start their own sshd on a loopback port to deliver print batches to
# by SFTP (the platform itself needs only the paramiko client).
sshd:
	@test -x /usr/sbin/sshd || $(MAKE) --no-print-directory apt PACKAGE=openssh-server

# coturn relays the video visits' media where no direct path exists; the tests start their own
# turnserver on loopback.
coturn:
	@test -x /usr/bin/turnserver || $(MAKE) --no-print-directory apt PACKAGE=coturn

# Redis: sessions and the cache where VK_REDIS_URL is set, and the video visits' channel layer
# between web processes; its tests use the one at 127.0.0.1:6379 (.ci/run starts it when it is
# not answering).
redis:
	@test -x /usr/bin/redis-server || $(MAKE) --no-print-directory apt PACKAGE=redis-server

pango:
	@installed=$$(dpkg-query -W -f='$${Status}\n' $(PANGO_PACKAGES) 2>/dev/null | grep -c '^install ok installed$$'); \
		test "$$installed" = "$(words $(PANGO_PACKAGES))" || $(MAKE) --no-print-directory apt PACKAGE="$(PANGO_PACKAGES)"

apt:
	@if [ "$$(id -u)" = "0" ]; then \
		echo "Installing Debian's $(PACKAGE)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(PACKAGE) >/dev/null; \
	else \
		echo "This needs Debian's $(PACKAGE): run 'sudo apt-get install $(PACKAGE)' and try again."; exit 1; \
	fi

lint: .venv/.synced lint-shell
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports --no-cache

SHELL_SCRIPTS := .ci/run deploy/smoke deploy/restore-drill deploy/nodes/up deploy/nodes/down

lint-shell: shellcheck
	shellcheck $(SHELL_SCRIPTS)

shellcheck:
	@command -v shellcheck >/dev/null || $(MAKE) --no-print-directory apt PACKAGE=shellcheck

types: .venv/.synced
	.venv/bin/mypy

migrations-check: setup
	$(MANAGE) makemigrations --check --dry-run

# Test processes (pytest-xdist), each with its own test database, live server and browser: one
# more than the machine's two cores, since the browser tests spend much of their time waiting for
# a page's next poll (2026-12-07, on the 2-core EPYC: the SQLite suite 9:01 with two, 8:17 with
# three; PostgreSQL 8:59 with three). PYTEST_WORKERS=0 runs the suite in this process.
PYTEST_WORKERS ?= 3

TEST_RESULTS := var/test-results

pytest: setup chromium clamav sshd coturn pango nginx pgbouncer redis postgresql-server
	@mkdir -p $(TEST_RESULTS)
	.venv/bin/pytest -n $(PYTEST_WORKERS) --junitxml=$(TEST_RESULTS)/today.xml

test: lint types migrations-check pytest

# The suite again with the clock moved (tests/clock_shift.py), the browser tests aside (Chromium
# keeps the real time): by default to the first 29 February at least 400 days ahead. Fails if any
# test ends otherwise than in the last `make test`. Another shift: make test-shifted CLOCK_SHIFT=1000d
CLOCK_SHIFT ?= 400d,feb29

test-shifted: setup clamav sshd coturn redis pango
	@mkdir -p $(TEST_RESULTS) && rm -f $(TEST_RESULTS)/shifted.xml
	.venv/bin/pytest -n $(PYTEST_WORKERS) --ignore=tests/browser --clock-shift=$(CLOCK_SHIFT) \
		--junitxml=$(TEST_RESULTS)/shifted.xml || true
	$(PY) tests/same_outcomes.py --leave-out tests.browser. $(TEST_RESULTS)/today.xml $(TEST_RESULTS)/shifted.xml

# The multi-node benchmark brings up deploy/nodes/ (nginx, PgBouncer, Redis, PostgreSQL's server).
bench: setup redis $(if $(filter booking_rush_nodes,$(NAME)),nginx pgbouncer postgresql-server)
	@test -n "$(NAME)" || { echo "usage: make bench NAME=<benchmark in bench/>"; exit 2; }
	$(PY) bench/run.py $(NAME)

# Schemathesis against the FHIR API of a throw-away demo installation served by gunicorn, until the
# server has answered FUZZ_BUDGET requests (fuzz/fhir.py). Fails on any 5xx and on any request
# accepted outside the client's scopes and units (checked per answer and in the database after).
FUZZ_BUDGET ?= 10000

fuzz-fhir: setup
	$(PY) fuzz/fhir.py --budget $(FUZZ_BUDGET)

# The production deployment (deploy/) brought up on this machine against a fresh PostgreSQL
# database and checked over HTTPS; everything it starts is stopped and removed (deploy/smoke).
deploy-smoke: build nginx psql
	deploy/smoke

# Fault injection (tests/faults/, skipped by the normal suite; docs/operations.md, "Faults and
# recovery"): kill -9 of the task worker mid-delivery FAULTS_KILLS times (local SMS gateway and SMTP
# server counting what they receive); the SMS gateway and mail server down 30 simulated minutes;
# on deploy/nodes' layout of the test's own (its own PostgreSQL cluster, PgBouncer, Redis, nginx,
# two gunicorn nodes): kill -9 of web nodes FAULTS_KILLS times mid-rush of bookings and cases,
# FAULTS_PG_RESTARTS restarts of its PostgreSQL (503 + Retry-After, back within 5 s), and Redis
# down. On PostgreSQL (pytest-django makes test_<database>). make faults FAULTS_SHORT=1 is the
# short form that .ci/run runs (5 kills each, one restart, fewer notices and slots; about 3 min
# here), on a throw-away cluster for the nodes (the full form keeps fsync on there:
# FAULTS_DURABLE_CLUSTER).
FAULTS_KILLS ?= 200
FAULTS_PG_RESTARTS ?= 3
FAULTS_DATABASE_URL ?= $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/vk_faults)

faults: setup nginx pgbouncer redis postgresql-server
	VK_FAULTS=1 FAULTS_KILLS=$(if $(FAULTS_SHORT),5,$(FAULTS_KILLS)) \
		FAULTS_PG_RESTARTS=$(if $(FAULTS_SHORT),1,$(FAULTS_PG_RESTARTS)) \
		FAULTS_DURABLE_CLUSTER=$(if $(FAULTS_SHORT),,1) \
		FAULTS_POOL_SLOTS=$(if $(FAULTS_SHORT),3000,20000) FAULTS_NOTICES=$(if $(FAULTS_SHORT),8,20) \
		DATABASE_URL=$(FAULTS_DATABASE_URL) \
		nice -n 10 .venv/bin/pytest -n 0 -p no:logging -s -q tests/faults

# Backup and point-in-time recovery as docs/operations.md describes them, on two throw-away
# clusters, with audit_verify on the restored database (deploy/restore-drill).
restore-drill: build postgresql-server
	deploy/restore-drill

nginx:
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || $(MAKE) --no-print-directory apt PACKAGE=nginx-light

psql:
	@command -v psql >/dev/null || $(MAKE) --no-print-directory apt PACKAGE=postgresql-client

# The multi-node layout (deploy/nodes/): PgBouncer in front of PostgreSQL (Redis: the target above).
pgbouncer:
	@command -v pgbouncer >/dev/null || test -x /usr/sbin/pgbouncer || $(MAKE) --no-print-directory apt PACKAGE=pgbouncer

# deploy/nodes/up: the layout with the demo region, left running; make nodes-down DIR=... removes it.
nodes-up: build nginx pgbouncer redis postgresql-server
	deploy/nodes/up $(DIR)

nodes-down:
	@test -n "$(DIR)" || { echo "usage: make nodes-down DIR=<the directory nodes-up printed>"; exit 2; }
	deploy/nodes/down $(DIR)

postgresql-server:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || $(MAKE) --no-print-directory apt PACKAGE=postgresql

clean:
	rm -rf .venv .tools node_modules var $(STATIC_BUILD)
