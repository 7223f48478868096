# loglens: `make demo` runs it, `make test` runs every test. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Debian packages the integration tests talk to (real servers and peers, never mocks), the programs the
# documentation's examples use (curl, jq), and the
# locales the locale test reads numbers in.
APT_PACKAGES := prometheus prometheus-alertmanager openssl goaccess mtail tmux locales curl jq syslog-ng-core \
  syslog-ng-mod-http syslog-ng-scl bsdutils chromium nats-server
TEST_LOCALE := de_DE.UTF-8
# rsyslog and syslog-ng are both Debian's system-log-daemon and cannot be installed together: the tests run
# rsyslogd (with imfile and omelasticsearch) from its packages unpacked here, its libraries installed.
RSYSLOG_DIR := .cache/rsyslog
RSYSLOG_LIBS := libestr0 libfastjson4 liblognorm5 libcurl4 libuuid1 libzstd1 zlib1g libsystemd0
# What building loglens's C modules (the line reader, the panels' tally) takes: a compiler, xxHash's header,
# and Python's headers when the interpreter came without them (Debian's own python3 keeps them in python3-dev).
PYTHON_HEADERS := $(shell $(PYTHON) -c "import os, sysconfig; print('' if os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h')) else 'python3-dev')")
BUILD_APT_PACKAGES := gcc libxxhash-dev $(PYTHON_HEADERS)
# Peers the benchmarks run against.
BENCH_APT_PACKAGES := mtail goaccess wrk

# Clients from the npm registry the protocol tests run: winston-loki, Loki's Node.js client, which sends
# protobuf compressed by snappy (whose prebuilt binary comes from the registry too).
NODE_CLIENTS := .cache/node

.PHONY: install system-deps rsyslog node-clients demo test lint bench

# The bytecode of loglens's own modules, as pip writes it for an installed wheel: an editable install has
# none, and where PYTHONDONTWRITEBYTECODE is set every command would compile them again at start.
install: $(BIN)/loglens
	$(BIN)/python -m compileall -q src/loglens

$(BIN)/loglens: pyproject.toml setup.py $(wildcard src/loglens/parsing/*.c src/loglens/parsing/*.h src/loglens/aggregate/*.c src/loglens/aggregate/*.h)
	$(call apt_install,$(BUILD_APT_PACKAGES))
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

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

rsyslog: $(RSYSLOG_DIR)/usr/sbin/rsyslogd

$(RSYSLOG_DIR)/usr/sbin/rsyslogd:
	$(call apt_install,$(RSYSLOG_LIBS))
	mkdir -p $(RSYSLOG_DIR)/debs
	cd $(RSYSLOG_DIR)/debs && { apt-get download -q rsyslog rsyslog-elasticsearch 2>/dev/null || \
	  { $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -qq && apt-get download -q rsyslog rsyslog-elasticsearch; }; }
	for deb in $(RSYSLOG_DIR)/debs/*.deb; do dpkg-deb -x "$$deb" $(RSYSLOG_DIR); done

node-clients: $(NODE_CLIENTS)/node_modules/winston-loki/package.json

$(NODE_CLIENTS)/node_modules/winston-loki/package.json:
	@command -v npm >/dev/null || { sudo=$$( [ "$$(id -u)" = 0 ] || echo sudo ); echo "installing Debian packages: nodejs npm"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq nodejs npm >/dev/null; }
	npm install --prefix $(NODE_CLIENTS) --no-audit --no-fund --loglevel=error winston@3 winston-loki@6 snappy@7

demo: install
	$(BIN)/loglens demo

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

test: install system-deps rsyslog node-clients lint
	$(BIN)/python -m pytest
	LOGLENS_C_READER=0 $(BIN)/python -m pytest tests/parsing
	LOGLENS_C_TALLY=0 $(BIN)/python -m pytest tests/aggregate tests/ui/test_web_document.py

bench: install
	$(call apt_install,$(BENCH_APT_PACKAGES))
	$(BIN)/python bench/replay_peers.py
