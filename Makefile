# Two commands on a fresh machine: `make demo` runs the whole pipeline locally, `make test` runs
# every check. Each installs what it needs first.
SHELL := /bin/bash
JEST_ARGS ?=
# Images are tagged <IMAGE_REPOSITORY>/<target>:<VERSION>, as the chart's image.repository expects.
VERSION ?= $(shell node -p "require('./package.json').version")
IMAGE_REPOSITORY ?= bowline
IMAGES := hook planner jenkins-operator reporter sinker deck kube-bridge cli
CHART := charts/bowline
CHART_VALUES := $(wildcard $(CHART)/ci/*-values.yaml) $(wildcard $(CHART)/values-*.yaml)

.PHONY: all install nats-server chromium build lint typecheck test demo bench clean images chart-test

all: build

# npm ci only when the lock file is newer than the last install.
node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.installed

# nats-server comes from Debian's packages when it is not on the PATH.
nats-server:
	@command -v nats-server >/dev/null 2>&1 || { \
	  echo "nats-server not found: installing it from Debian's packages"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq nats-server; }

# Chromium, for the deck's browser tests, comes from Debian's packages when it is missing
# (CHROMIUM_BIN names another one).
chromium:
	@[ -x "$${CHROMIUM_BIN:-/usr/bin/chromium}" ] || { \
	  echo "chromium not found: installing it from Debian's packages"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }

build: install
	npx tsc -b

lint: install
	npx eslint .

typecheck: install
	npx tsc -p tsconfig.check.json

test: install nats-server chromium build lint typecheck
	NODE_OPTIONS=--experimental-vm-modules npx jest $(JEST_ARGS)

# The demo (demo/demo.ts) is compiled by its own tsconfig, as bench/ is: it stays out of the
# workspace build, so the images and the lock file do not know it.
demo: install nats-server build
	npx tsc -b demo
	node demo/dist/demo.js

# Every benchmark of bench/README.md, each beside its floor or baseline measured in the same run,
# then bench/RESULTS.md and bench/latency.png (about 6 minutes on 2 cores). `npm run bench -- --quick`
# is the short version; one benchmark alone: `npm run bench:e2e -- --count 100` (bench/README.md).
bench: install nats-server chromium build
	npm run bench

clean:
	npx tsc -b --clean

# One image per target of the multi-stage Dockerfile; the workspace build is one cached stage.
images:
	@command -v docker >/dev/null 2>&1 || { echo "docker not found: install Docker to build the images" >&2; exit 1; }
	@docker info >/dev/null 2>&1 || { echo "docker cannot reach a Docker engine: start one (see docker info)" >&2; exit 1; }
	@for target in $(IMAGES); do \
	  echo "docker build --target $$target -t $(IMAGE_REPOSITORY)/$$target:$(VERSION) ."; \
	  docker build --target $$target -t $(IMAGE_REPOSITORY)/$$target:$(VERSION) . || exit 1; \
	done

# The chart's checks that need nothing installed run in jest (tests/chart.test.ts and tests/chart/,
# also part of `make test`); helm and kubeconform add theirs where they are on the PATH.
# `helm dependency update` fetches the NATS chart.
chart-test: install
	NODE_OPTIONS=--experimental-vm-modules npx jest tests/chart
	@if ! command -v helm >/dev/null 2>&1; then \
	  echo "helm not found: skipped helm lint / helm template"; \
	  command -v kubeconform >/dev/null 2>&1 || echo "kubeconform not found: skipped kubeconform"; \
	else \
	  helm dependency update $(CHART) >/dev/null || { echo "helm dependency update $(CHART) failed: cannot fetch the NATS chart" >&2; exit 1; }; \
	  for values in $(CHART_VALUES); do helm lint $(CHART) -f $$values || exit 1; done; \
	  if ! command -v kubeconform >/dev/null 2>&1; then \
	    echo "kubeconform not found: skipped kubeconform"; \
	  else \
	    for values in $(CHART_VALUES); do \
	      echo "helm template $(CHART) -f $$values | kubeconform"; \
	      helm template bowline $(CHART) -n bowline --kube-version 1.30.0 -f $$values \
	        | kubeconform -strict -ignore-missing-schemas -summary || exit 1; \
	    done; \
	  fi; \
	fi
