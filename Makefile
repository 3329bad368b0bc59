# Two commands for a new user: `make demo` and `make test`. Everything else is set up on the way.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# PostgreSQL tests run when this is set (CI sets it); SQLite tests always run.
CALLWATCH_TEST_POSTGRES_URL ?=
export CALLWATCH_TEST_POSTGRES_URL

.PHONY: demo test lint bench bench-short mosquitto chromium gammu clean

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

# The GSM modem provider's tests run the real gammu-smsd on Gammu's dummy phone.
gammu:
	@command -v gammu-smsd >/dev/null 2>&1 || \
	  (echo "installing gammu-smsd (Debian package)"; apt-get update -qq && apt-get install -y -qq gammu gammu-smsd)

test: $(BIN)/.installed mosquitto chromium gammu
	$(BIN)/pytest -n auto --dist loadfile

lint: $(BIN)/.installed
	$(BIN)/ruff check monitor devices simulator tests bench
	$(BIN)/mypy

# Benchmarks print figures beside a baseline measured in the same run (bench/README.md). They
# exit non-zero only on a real failure (a crash, a message or SMS lost or duplicated); a
# performance goal missed is a printed verdict.
bench: $(BIN)/.installed mosquitto gammu
	$(BIN)/python -m bench.latency
	$(BIN)/python -m bench.tuning
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.latency_load
	$(BIN)/python -m bench.escalation
	$(BIN)/python -m bench.follow_through
	$(BIN)/python -m bench.sms_failover
	$(BIN)/python -m bench.scale
	$(BIN)/python -m bench.recovery
	$(BIN)/python -m bench.faults kills --kills 50
	@if [ -n "$(CALLWATCH_TEST_POSTGRES_URL)" ]; then $(BIN)/python -m bench.faults kills --kills 50 --database postgresql; fi
	$(BIN)/python -m bench.faults broker --restarts 5
	$(BIN)/python -m bench.faults broker --restarts 5 --crash
	$(BIN)/python -m bench.faults broker --restarts 5 --crash --monitor-down
	@if [ -n "$(CALLWATCH_TEST_POSTGRES_URL)" ]; then $(BIN)/python -m bench.monitors; fi
	@if [ -n "$(CALLWATCH_TEST_POSTGRES_URL)" ]; then $(BIN)/python -m bench.cluster_faults --kills 10; fi
	@if [ -n "$(CALLWATCH_TEST_POSTGRES_URL)" ]; then $(BIN)/python -m bench.failover; fi

# The same, short but still meaningful, in a few minutes: for CI.
bench-short: $(BIN)/.installed mosquitto gammu
	$(BIN)/python -m bench.latency --presses 50
	$(BIN)/python -m bench.ingest --step-seconds 3
	$(BIN)/python -m bench.latency_load --presses 50
	$(BIN)/python -m bench.escalation --alerts 300 --tier2-timeout 3
	$(BIN)/python -m bench.follow_through --alerts 100
	$(BIN)/python -m bench.sms_failover --asks 10
	$(BIN)/python -m bench.scale --devices 20000 --alerts 200
	$(BIN)/python -m bench.recovery --seconds 16
	$(BIN)/python -m bench.faults kills --kills 8
	$(BIN)/python -m bench.faults broker --restarts 2
	$(BIN)/python -m bench.tuning --short
	@if [ -n "$(CALLWATCH_TEST_POSTGRES_URL)" ]; then $(BIN)/python -m bench.monitors --short; fi
	@if [ -n "$(CALLWATCH_TEST_POSTGRES_URL)" ]; then $(BIN)/python -m bench.failover --short; fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts
