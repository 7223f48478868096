# loglens: `make demo` runs it, `make test` runs every test. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Debian packages the integration tests talk to (real servers and peers, never mocks), the programs the
# documentation's examples use (curl, jq), and the
# locales the locale test reads numbers in.
APT_PACKAGES := prometheus prometheus-alertmanager openssl goaccess tmux locales curl jq syslog-ng-core \
  syslog-ng-mod-http bsdutils rsyslog
TEST_LOCALE := de_DE.UTF-8
# What building loglens's C module (the line reader) takes: a compiler, and Python's headers when the
# interpreter came without them (Debian's own python3 keeps them in python3-dev).
PYTHON_HEADERS := $(shell $(PYTHON) -c "import os, sysconfig; print('' if os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h')) else 'python3-dev')")
BUILD_APT_PACKAGES := gcc $(PYTHON_HEADERS)
# Peers the benchmarks run against.
BENCH_APT_PACKAGES := mtail goaccess wrk

.PHONY: install system-deps demo test lint bench

$(BIN)/loglens: pyproject.toml setup.py $(wildcard src/loglens/parsing/*.c src/loglens/parsing/*.h)
	$(call apt_install,$(BUILD_APT_PACKAGES))
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/loglens

define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  sudo=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing Debian packages:$$missing"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

system-deps:
	$(call apt_install,$(APT_PACKAGES))
	@locale -a | grep -qix '$(subst UTF-8,utf8,$(TEST_LOCALE))' || { \
	  sudo=$$( [ "$$(id -u)" = 0 ] || echo sudo ); echo "generating locale $(TEST_LOCALE)"; \
	  $$sudo sed -i 's/^# *\($(TEST_LOCALE) \)/\1/' /etc/locale.gen && $$sudo locale-gen >/dev/null; }

demo: install
	$(BIN)/loglens demo

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

test: install system-deps lint
	$(BIN)/python -m pytest
	LOGLENS_C_READER=0 $(BIN)/python -m pytest tests/parsing

bench: install
	$(call apt_install,$(BENCH_APT_PACKAGES))
	$(BIN)/python bench/replay_peers.py
