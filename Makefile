# Two commands on a fresh machine: `make demo` runs the whole pipeline locally, `make test` runs
# every check. Each installs what it needs first.
SHELL := /bin/bash
JEST_ARGS ?=

.PHONY: all install nats-server build lint typecheck test demo bench clean

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

build: install
	npx tsc -b

lint: install
	npx eslint .

typecheck: install
	npx tsc -p tsconfig.check.json

test: install nats-server build lint typecheck
	NODE_OPTIONS=--experimental-vm-modules npx jest $(JEST_ARGS)

demo: install nats-server build
	node libs/testing/dist/demo.js

# Each benchmark next to its baseline, measured in one run (bench/README.md); pass flags with
# `npm run bench:hook -- --concurrency 50` or `npm run bench:operator -- --sizes 100,1000`.
bench: install nats-server build
	npm run bench:hook
	npm run bench:operator

clean:
	npx tsc -b --clean
