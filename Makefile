# The two commands: `make demo` and `make test`. Both set themselves up.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: messages demo demo-mail test test-fast lint typecheck unit fast-unit secret-service venv clean bench bench-quick

$(STAMP): pyproject.toml requirements/lock.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c requirements/lock.txt -e '.[test,dev]'
	touch $(STAMP)

venv: $(STAMP)

# The translations: extract the marked texts (src/securemsg/locale/securemsg.pot),
# merge every fr/LC_MESSAGES/*.po and compile fr/LC_MESSAGES/securemsg.mo (scripts/messages.py).
messages: $(STAMP)
	$(BIN)/python scripts/messages.py

demo: $(STAMP)
	$(BIN)/python -m securemsg.demo

# The same story by mail, through a real local Postfix and Dovecot (root, Debian packages).
demo-mail: $(STAMP)
	$(BIN)/python scripts/demo_mail.py

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/vulture  # dead code (pyproject [tool.vulture], tests/vulture_whitelist.py)

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q -m "not secret_service"

# Everything but the slow hostile and crash suites (marker `slow`) and the real
# Secret Service: the inner loop, under 90 s on the 2-core machine.
fast-unit: $(STAMP)
	$(BIN)/pytest -q -m "not slow and not secret_service"

# A real Secret Service: gnome-keyring in a private D-Bus session, headless.
secret-service: $(STAMP)
	@if command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then \
	  xdg="$$(mktemp -d)"; XDG_DATA_HOME="$$xdg" dbus-run-session -- bash -c \
	    'printf "pw" | gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec $(BIN)/pytest -q -m secret_service'; \
	  rc=$$?; rm -rf "$$xdg"; exit $$rc; \
	else \
	  echo "SKIPPED secret-service tests: dbus-run-session or gnome-keyring-daemon not installed"; \
	  if [ -n "$$SECUREMSG_REQUIRE_SECRET_SERVICE" ]; then exit 1; fi; \
	fi

# The full suite: what CI runs (.ci/run).
test: lint typecheck unit secret-service

# The inner loop: lint, type check and the fast tests (README.md).
test-fast: lint typecheck fast-unit

# Coverage-guided fuzzing of every parser (atheris), FUZZ_SECONDS per target (default 120).
fuzz: $(STAMP)
	$(BIN)/pip install -q -c requirements/lock.txt atheris && PYTHON=$(BIN)/python bash fuzz/run.sh

# Benchmarks (not run in CI): figures, ratios and PASS/MISS per target of issue 6.
# `bench` writes docs/performance.png and docs/performance-results.md.
bench: $(STAMP)
	$(BIN)/pip install -q -c requirements/lock.txt -e '.[bench]'
	$(BIN)/python -m benchmarks --out docs

bench-quick: $(STAMP)
	$(BIN)/python -m benchmarks --quick

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
