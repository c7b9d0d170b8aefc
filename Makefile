# Vécu — the one entry point. `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

VENV       := .venv
RASA_VENV  := .venv-rasa
PY         := $(VENV)/bin/python
RASA       := PYTHONWARNINGS=ignore TF_CPP_MIN_LOG_LEVEL=3 $(RASA_VENV)/bin/rasa
RASA_MODEL := models/rasa/vecu.tar.gz
E5_DIR     := models/rasa/e5
RASA_FILES := config.yml domain.yml models/emotion/config.json \
              $(shell find nlu -name '*.yml' 2>/dev/null | sort) $(wildcard rasa_addons/*.py)
DATA       ?= ../shared/data
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# ---------------------------------------------------------------- environments
$(VENV)/.installed: pyproject.toml
	@echo "==> Python 3.11 environment ($(VENV)): installing Vécu and its dev tools"
	@py=$$(scripts/find-python 3.11) && { [ -x $(PY) ] || "$$py" -m venv $(VENV); }
	@$(PY) -m pip install --upgrade --quiet pip
	@$(PY) -m pip install --quiet --progress-bar off -e '.[dev,train]'
	@$(PY) -c 'import bot, fastapi, sqlalchemy, onnxruntime, rasa_sdk' 
	@touch $@

$(RASA_VENV)/.installed: requirements-rasa.txt
	@echo "==> Python 3.10 environment ($(RASA_VENV)): installing Rasa (first time: a few minutes)"
	@py=$$(scripts/find-python 3.10) && { [ -x $(RASA_VENV)/bin/python ] || "$$py" -m venv $(RASA_VENV); }
	@$(RASA_VENV)/bin/python -m pip install --upgrade --quiet pip
	@$(RASA_VENV)/bin/python -m pip install --quiet --progress-bar off -r requirements-rasa.txt
	@$(RASA_VENV)/bin/rasa --version >/dev/null
	@touch $@

.PHONY: setup
setup: $(VENV)/.installed $(RASA_VENV)/.installed .env ## Create both environments and a local .env

.env:
	@echo "==> .env: creating it from .env.example with fresh local secrets"
	@sed -e "s/^VECU_API_TOKEN=.*/VECU_API_TOKEN=$$(openssl rand -hex 24)/" \
	     -e "s/^VECU_SECRET_KEY=.*/VECU_SECRET_KEY=$$(openssl rand -hex 32)/" \
	     -e "s/^RASA_TOKEN=.*/RASA_TOKEN=$$(openssl rand -hex 24)/" \
	     -e "s/^VECU_EVENTS_SECRET=.*/VECU_EVENTS_SECRET=$$(openssl rand -hex 32)/" .env.example > $@
	@echo "    your API token is in .env (VECU_API_TOKEN)"

# ---------------------------------------------------------------- Rasa model
# Rasa's NLU reads messages through our own encoder too (rasa_addons/e5_featurizer.py): a copy
# of the shipped model's graph that outputs its inner features, made from models/emotion/.
$(E5_DIR)/features.json: models/emotion/model.onnx models/emotion/config.json bot/model/nlu_features.py | $(VENV)/.installed
	@echo "==> Rasa's encoder features: $(E5_DIR) from models/emotion"
	@$(PY) -m bot.model.nlu_features models/emotion $(E5_DIR)

.PHONY: train
train: $(RASA_VENV)/.installed $(E5_DIR)/features.json ## Train the Rasa model when nlu/, domain.yml, config.yml or the encoder changed
	@mkdir -p models/rasa
	@sum=$$(cat $(RASA_FILES) | sha256sum | cut -c1-16); \
	if [ -f $(RASA_MODEL) ] && [ "$$(cat models/rasa/.fingerprint 2>/dev/null)" = "$$sum" ]; then \
	  echo "==> Rasa model is up to date ($(RASA_MODEL))"; \
	else \
	  echo "==> Training the Rasa model (about 2-4 minutes)"; start=$$(date +%s); \
	  $(RASA) train --data nlu --domain domain.yml --config config.yml --out models/rasa \
	    --fixed-model-name vecu --force --quiet; \
	  echo "$$sum" > models/rasa/.fingerprint; \
	  echo "    trained in $$(( $$(date +%s) - start )) s"; \
	fi

# ---------------------------------------------------------------- run
.PHONY: run
run: setup train ## Set up what is missing, train if needed, migrate, start everything
	@mkdir -p var
	@set -a && . ./.env && set +a && $(VENV)/bin/vecu config check >/dev/null
	@set -a && . ./.env && set +a && $(VENV)/bin/vecu db upgrade
	@echo "==> Starting rasa (127.0.0.1:5005), actions (127.0.0.1:5055), web and worker"
	@echo "    Chat in your browser: http://127.0.0.1:$${VECU_WEB_PORT:-8000}/  (Rasa needs about a minute to load)"
	@echo "    JSON API: POST http://127.0.0.1:$${VECU_WEB_PORT:-8000}/api/v1/chat — Ctrl-C stops everything"
	@echo "    Dashboard: http://127.0.0.1:$${VECU_WEB_PORT:-8000}/dashboard (account: .venv/bin/vecu users add EMAIL;"
	@echo "    demo data: .venv/bin/vecu demo seed)"
	@set -a && . ./.env && set +a && procfile=Procfile && \
	if [ -n "$${TELEGRAM_CUSTOMER_TOKEN:-}$${TELEGRAM_EMPLOYEE_TOKEN:-}" ] && [ -z "$${TELEGRAM_PUBLIC_URL:-}" ]; then \
	  procfile=var/Procfile.run && cp Procfile $$procfile && echo "telegram: .venv/bin/vecu telegram poll" >> $$procfile && \
	  echo "    Telegram: a bot token is set and no public URL: polling Telegram"; \
	fi && exec $(VENV)/bin/honcho start -f $$procfile -d . -e .env

# ---------------------------------------------------------------- run at scale
REPLICAS ?= 2
WORKERS  ?= 2

.PHONY: balancer
balancer: ## Install HAProxy (Debian) for the scaled stack (root only)
	@if command -v haproxy >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "==> Installing haproxy (Debian) for the scaled stack"; \
	  (apt-get install -y -qq haproxy >/dev/null 2>&1 || { apt-get update -qq >/dev/null && \
	   DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null; }); \
	else echo "    (no haproxy: install it to run the scaled stack, e.g. apt-get install haproxy)"; fi

.PHONY: run-scaled
run-scaled: setup train balancer ## REPLICAS (2) of Rasa, actions and web, WORKERS (2) workers behind HAProxy on PostgreSQL + Redis
	@echo "==> Preparing the scaled stack (PostgreSQL $${VECU_SCALED_DATABASE_URL:-127.0.0.1:5432/vecu_scaled}, Redis, HAProxy)"
	@set -a && . ./.env && set +a && $(PY) -m bot.cli.scaled prepare --replicas $(REPLICAS) --workers $(WORKERS) \
	  $${VECU_SCALED_DATABASE_URL:+--database-url "$$VECU_SCALED_DATABASE_URL"} \
	  $${VECU_SCALED_REDIS_URL:+--redis-url "$$VECU_SCALED_REDIS_URL"}
	@echo "==> Starting $(REPLICAS) Rasa, $(REPLICAS) action servers, $(REPLICAS) web, $(WORKERS) workers behind HAProxy"
	@echo "    Chat: http://127.0.0.1:8000/ (same ports as make run; Rasa needs about a minute to load)"
	@echo "    Balancer status: http://127.0.0.1:8404/ — Ctrl-C stops everything"
	@exec $(VENV)/bin/honcho start -f var/scaled/Procfile -d . -e .env

# ---------------------------------------------------------------- checks
.PHONY: lint
lint: $(VENV)/.installed ## ruff, and bot/'s floors (import-linter: nothing imports upward)
	@echo "==> ruff"
	@$(VENV)/bin/ruff check bot actions tests bench rasa_addons
	@echo "==> import-linter (bot/ in layers)"
	@$(VENV)/bin/lint-imports --no-cache >/dev/null || $(VENV)/bin/lint-imports --no-cache
	@$(VENV)/bin/ruff format --check bot actions tests bench rasa_addons >/dev/null || { echo "    (ruff format would reformat some files: run 'make fmt')"; }

.PHONY: fmt
fmt: $(VENV)/.installed ## Format the code with ruff
	@$(VENV)/bin/ruff format bot actions tests bench rasa_addons
	@$(VENV)/bin/ruff check --fix bot actions tests bench rasa_addons

.PHONY: typecheck
typecheck: $(VENV)/.installed ## mypy
	@echo "==> mypy"
	@$(VENV)/bin/mypy

.PHONY: browser
browser: ## Install Debian's Chromium + ChromeDriver for the web page test (root only)
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "==> Installing chromium and chromium-driver (Debian) for the browser test"; \
	  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "    (no chromium: the browser test will be skipped; install chromium and chromium-driver)"; fi

.PHONY: pytest
pytest: $(VENV)/.installed browser ## Unit and integration tests (pytest, offline)
	@echo "==> pytest"
	@VECU_ENV=test $(VENV)/bin/pytest -q -m "not rasa and not scaled"

.PHONY: rasa-validate
rasa-validate: $(RASA_VENV)/.installed ## rasa data validate
	@echo "==> rasa data validate"
	@$(RASA) data validate --data nlu --domain domain.yml --config config.yml --fail-on-warnings --quiet

.PHONY: rasa-test
rasa-test: train ## Rasa conversation tests (French and English) on the trained model
	@echo "==> Rasa conversation tests (tests/test_*.yml)"
	@rm -rf results/core
	@$(RASA) test core --model $(RASA_MODEL) --stories tests/ --out results/core \
	  --e2e --fail-on-prediction-errors --no-plot --quiet

.PHONY: e2e
e2e: $(VENV)/.installed train ## End-to-end: real Rasa + action server + web + webhook receiver
	@echo "==> end-to-end tests (real Rasa, actions, web, database, model)"
	@VECU_ENV=test $(VENV)/bin/pytest -q -m "rasa and not scaled"

.PHONY: test-scaled
test-scaled: $(VENV)/.installed train balancer ## The scaled stack on PostgreSQL + Redis under faults (kill -9, restarts; ~8 min)
	@echo "==> scaled stack under faults (2 of each behind HAProxy, PostgreSQL, Redis)"
	@VECU_ENV=test $(VENV)/bin/pytest -q -rP -m scaled -p no:cacheprovider tests/scaled

.PHONY: test
test: lint typecheck rasa-validate pytest rasa-test e2e ## Everything CI runs
	@echo "==> all checks passed"

# ---------------------------------------------------------------- benchmarks and slow suites
.PHONY: bench
bench: bench-model ## Benchmarks (model; chat reply time needs `make run` running: make bench-chat)

.PHONY: bench-model
bench-model: $(VENV)/.installed ## Model quality and latency on the validation data
	@$(VENV)/bin/vecu model eval --data $(DATA)

.PHONY: bench-chat
bench-chat: $(VENV)/.installed ## p50/p95 reply time for 200 messages against a running `make run`
	@$(PY) bench/bench_chat.py

.PHONY: bench-load
bench-load: $(VENV)/.installed ## Open-loop load (5, 10, 20, 40 msg/s, 2 min each) against a running `make run`
	@$(PY) bench/bench_load.py $(if $(RATES),--rates $(RATES)) $(if $(DURATION),--duration $(DURATION))

.PHONY: bench-telegram
bench-telegram: $(VENV)/.installed ## Telegram gateway: added latency around Rasa (needs `make run`) and updates/s
	@$(PY) bench/bench_telegram.py

.PHONY: bench-redaction
bench-redaction: $(VENV)/.installed ## PII redaction: precision/recall per category, time per message
	@$(PY) bench/bench_redaction.py

.PHONY: bench-touchpoints
bench-touchpoints: $(VENV)/.installed ## Touchpoint and team detection per language on bench/touchpoints-dev.jsonl
	@$(PY) bench/bench_touchpoints.py $(SET)

.PHONY: bench-dashboard
bench-dashboard: $(VENV)/.installed ## Dashboard page load p50/p95 on 100k feedback rows (temp SQLite)
	@$(PY) bench/bench_dashboard.py --rows $${ROWS:-100000}

.PHONY: screenshot-dashboard
screenshot-dashboard: $(VENV)/.installed browser ## Refresh docs/dashboard-*.png (headless Chromium)
	@mkdir -p docs && VECU_ENV=test VECU_DASHBOARD_SCREENSHOT=$(CURDIR)/docs/dashboard-touchpoint.png \
	  VECU_INBOX_SCREENSHOT=$(CURDIR)/docs/dashboard-inbox.png \
	  $(VENV)/bin/pytest -q tests/bot/web/dashboard/test_browser.py

.PHONY: nlu-cv
nlu-cv: $(RASA_VENV)/.installed $(VENV)/.installed $(E5_DIR)/features.json ## NLU cross-validation per language: intent F1 and confusion matrix (slow)
	@for lang in fr en; do \
	  echo "==> NLU cross-validation: $$lang (3 folds; intent and entity F1 in results/nlu-$$lang)"; \
	  rm -rf results/cv-data-$$lang && mkdir -p results/cv-data-$$lang && cp nlu/$$lang/*.yml nlu/entities.yml results/cv-data-$$lang/; \
	  $(RASA) test nlu --nlu results/cv-data-$$lang --config config.yml --cross-validation --folds 3 --out results/nlu-$$lang --quiet; \
	done
	@$(PY) bench/nlu_report.py fr en

.PHONY: nlu-fresh
nlu-fresh: train ## The trained assistant's intents on fresh sets never trained on (bench/nlu-fresh-*.yml)
	@for lang in fr en; do \
	  echo "==> NLU on the fresh $$lang set (bench/nlu-fresh-$$lang.yml, results in results/nlu-fresh-$$lang)"; \
	  $(RASA) test nlu --model $(RASA_MODEL) --nlu bench/nlu-fresh-$$lang.yml --out results/nlu-fresh-$$lang --quiet >/dev/null; \
	done
	@$(PY) bench/nlu_report.py --prefix nlu-fresh fr en

.PHONY: train-model
train-model: ## Train the emotion/sentiment model (slow on a CPU; needs the train extra)
	@$(PY) -m pip install --quiet -e '.[dev,train]'
	@$(VENV)/bin/vecu model train --data $(DATA) --out models/emotion --config bench/model_config.yml

.PHONY: clean
clean: ## Remove environments, trained Rasa models and test results (keeps var/ and .env)
	rm -rf $(VENV) $(RASA_VENV) models/rasa results .mypy_cache .ruff_cache .pytest_cache
