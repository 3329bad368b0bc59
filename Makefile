# Two commands for a new user: `make demo` and `make test`. Everything else is set up on the way.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# PostgreSQL tests run when this is set (CI sets it); SQLite tests always run.
CALLWATCH_TEST_POSTGRES_URL ?=
export CALLWATCH_TEST_POSTGRES_URL

.PHONY: demo test lint bench mosquitto chromium clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/.installed
	$(BIN)/callwatch demo

# Tests start their own private Mosquitto (and Chromium for the console tests): install them if missing.
mosquitto:
	@command -v mosquitto >/dev/null 2>&1 || test -x /usr/sbin/mosquitto || \
	  (echo "installing mosquitto (Debian package)"; apt-get update -qq && apt-get install -y -qq mosquitto mosquitto-clients)
	@command -v mosquitto_pub >/dev/null 2>&1 || apt-get install -y -qq mosquitto-clients

chromium:
	@test -x /usr/bin/chromium || (echo "installing chromium (Debian package)"; apt-get update -qq && apt-get install -y -qq chromium)

test: $(BIN)/.installed mosquitto chromium
	$(BIN)/pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check monitor devices simulator tests bench
	$(BIN)/mypy

bench: $(BIN)/.installed mosquitto
	$(BIN)/python -m bench.latency

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts
