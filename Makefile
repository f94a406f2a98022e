# 民情地图: `make run` serves the dashboard on the embedded demo, `make test` runs every test.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DEMO_DB := data/minqing.duckdb
DB ?= $(or $(MINQING_DB),$(DEMO_DB))
PORT ?=
# In the offline bundle (ops/bundle.py: wheels/ beside this Makefile) every install comes from
# wheels/, never from the network; elsewhere from the package index.
WHEELS := $(wildcard wheels/*.whl)
PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check $(if $(WHEELS),--no-index --find-links wheels)

.PHONY: install install-test install-bench install-offline bundle offline-check warehouse run demo test test-fast bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 not found: install python3.11 (and python3.11-venv on Debian/Ubuntu)"; exit 1; }
	@$(PYTHON) -c 'import sys, venv, ensurepip; assert sys.version_info[:2] == (3, 11), sys.version' 2>/dev/null || \
	  { echo "$(PYTHON) is not a Python 3.11 with venv/ensurepip: install python3.11 and python3.11-venv"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -e .
	touch $@

install-test: $(VENV)/.installed-test

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(PIP_INSTALL) -e '.[test]'
	touch $@

# The demo warehouse is built once, and only at its own path; delete it (or `make demo`) to rebuild.
# A warehouse named by MINQING_DB / DB that does not exist is an error, never a new demo.
$(DEMO_DB): | $(VENV)/.installed
	$(BIN)/minqing --db $(DEMO_DB) demo

warehouse: install
	@if [ "$(abspath $(DB))" = "$(abspath $(DEMO_DB))" ]; then $(MAKE) --no-print-directory $(DEMO_DB); \
	elif [ ! -f "$(DB)" ]; then \
	  echo "数据仓库 $(DB) 不存在。请先创建并导入数据:"; \
	  echo "  $(BIN)/minqing --db $(DB) init --district 区县代码或名称"; \
	  echo "  $(BIN)/minqing --db $(DB) load cases 诉求台账.xlsx"; \
	  echo "或不设 MINQING_DB, 使用内置的演示数据 ($(DEMO_DB))。"; exit 2; fi

demo: install
	$(BIN)/minqing --db $(DB) demo --force

# `minqing serve`: the dashboard on 127.0.0.1 (setting server_address); on the demo it prints the demo accounts.
run: warehouse
	$(BIN)/minqing --db $(abspath $(DB)) serve $(if $(PORT),--port $(PORT))

test: install-test
	$(BIN)/python -m pytest -q

# The fast part (no full-size demo, browser or dask cluster): about a minute or two.
test-fast: install-test
	$(BIN)/python -m pytest -q -m "not slow"

install-bench: $(VENV)/.installed-bench

$(VENV)/.installed-bench: $(VENV)/.installed pyproject.toml
	$(PIP_INSTALL) -e '.[bench]'
	touch $@

# Province benchmark (河北省, 1M and 10M cases; about an hour and 20 GB of disk in bench/data/ the
# first time): writes bench/results.json. `make bench BENCH_SIZES=100k` for a quick check.
BENCH_SIZES ?= 1m,10m
bench: install-bench
	nice -n 10 $(BIN)/python -m bench.run --sizes $(BENCH_SIZES)

# Offline install (README "Running at an office"): `make bundle` on a connected machine writes
# dist/minqing-<version>-linux_x86_64-py311.tar.gz; unpacked on the intranet machine,
# `make install-offline` (or ./ops/install.sh) installs from its wheels/ with no network.
bundle:
	$(or $(wildcard $(BIN)/python),$(PYTHON)) ops/bundle.py

install-offline:
	PYTHON=$(PYTHON) sh ops/install.sh

# Builds the bundle, then installs and serves it in a network namespace without network (root; minutes).
offline-check:
	sh ops/offline_check.sh

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis tests/artifacts
