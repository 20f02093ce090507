# unshared: build, generate, demo and test. Everything installs what it needs first (Debian
# packages with apt-get, npm packages with npm ci), so each target works on a fresh machine.
# Run as root: the demo and the behaviour tests create namespaces and cgroups.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

NODE_BIN := node_modules/.bin
BATS := node_modules/bats/bin/bats
UNSHARED := node dist/cli.cjs
# Debian packages the suite needs: what a generated script runs, plus the test tools.
# (bash-builtins: the loadable mkdir, rm, ... that generated scripts use when present, as the
# tests and the bench expect; strace: test/bats/builtins.bats counts the programs a run starts.)
DEBIAN_PACKAGES := shellcheck busybox-static util-linux mount coreutils tar iproute2 procps \
  nftables iptables curl runc systemd gcc libc6-dev attr jq findutils bash-builtins strace
DEMO_ROOTFS := /var/lib/unshared/busybox
EXAMPLES := $(wildcard examples/*.ts)
GENERATED := $(patsubst examples/%.ts,generated/%.sh,$(EXAMPLES))
SOURCES := $(shell find src test/unit examples -name '*.ts' 2>/dev/null) tsconfig.json
# The bundled command line holds the templates, precompiled.
TEMPLATES := $(shell find templates -name '*.hbs' 2>/dev/null)

.PHONY: help deps build generate rootfs demo test test-unit test-bats test-vm test-vm-ci bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

deps: .cache/debian.stamp node_modules/.package-lock.json ## install Debian and npm packages

.cache/debian.stamp: Makefile
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg-query -W -f='$${Status}\n' "$$p" 2>/dev/null | grep -q 'ok installed' || echo "$$p"; done); \
	if [[ -n $$missing ]]; then \
	  echo "installing Debian packages:" $$missing; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@mkdir -p .cache && touch $@

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

build: dist/.stamp dist/cli.cjs ## compile the TypeScript sources, and bundle the command line (with its code cache)

dist/.stamp: node_modules/.package-lock.json $(SOURCES)
	$(NODE_BIN)/tsc -p tsconfig.json
	@touch $@

dist/cli.cjs: dist/.stamp scripts/bundle.mjs package.json $(TEMPLATES)
	node scripts/bundle.mjs

generate: build ## rebuild generated/ (scripts from examples/*.ts) and schema/
	@mkdir -p schema && $(UNSHARED) schema -o schema/unshared.schema.json && echo "generated schema/unshared.schema.json"
	@for spec in $(EXAMPLES); do \
	  out=generated/$$(basename "$${spec%.ts}").sh; \
	  $(UNSHARED) build "$$spec" -o "$$out"; \
	  echo "generated $$out"; \
	done

rootfs: .cache/debian.stamp ## build the demo rootfs at /var/lib/unshared/busybox
	@if [[ ! -x $(DEMO_ROOTFS)/bin/busybox ]]; then \
	  rm -rf $(DEMO_ROOTFS) && scripts/make-busybox-rootfs.sh $(DEMO_ROOTFS) && echo "rootfs ready in $(DEMO_ROOTFS)"; \
	fi

demo: deps generate rootfs ## set up, compile the seed example, and run its container
	@echo "running generated/build-container.sh (a busybox shell; 'exit' leaves it)"
	generated/build-container.sh

test: deps build test-unit test-bats test-vm-ci ## run the whole test suite (and its cgroup v2 subset in a VM)

test-unit: build ## unit and golden tests (schema, model, quoting, generated/, shellcheck)
	node --test --test-reporter=spec dist/test/unit/

test-bats: build ## behaviour tests: generated scripts run real containers (root)
	@mkdir -p .cache; status=0; \
	$(BATS) --print-output-on-failure --timing --formatter tap test/bats | tee .cache/bats.tap || status=$$?; \
	awk -v host="$$(scripts/cgroup-version.sh), Linux $$(uname -r)" \
	  '/^ok .* # skip/ {s++; next} /^ok / {p++} /^not ok / {f++} \
	  END {printf "bats (%s): %d passed, %d failed, %d skipped\n", host, p, f, s}' .cache/bats.tap; \
	exit $$status

test-vm: deps build rootfs ## the behaviour suite in a QEMU VM on pure cgroup v2 (slow under TCG; see test/vm/README.md)
	$(BATS) test/vm/node-proxy.bats
	test/vm/run.sh $(VM_TESTS)

# The tests tagged ci:vm (limits, namespaces, pivot_root, overlay, bridge networking): a few
# minutes under TCG, so that every `make test` also runs on cgroup v2. Both VM targets first
# check the lane's node proxy on the host (test/vm/node-proxy.bats, seconds).
test-vm-ci: deps build rootfs ## the cgroup v2 VM lane's CI subset (tests tagged ci:vm)
	$(BATS) test/vm/node-proxy.bats
	VM_TIMEOUT=$${VM_TIMEOUT:-1200} test/vm/run.sh --filter-tags ci:vm test/vm/smoke.bats test/bats

bench: deps build ## benchmarks: container start against unshare/bwrap/runc, compile speed, 50 containers (bench/results/)
	@command -v hyperfine >/dev/null && command -v runc >/dev/null && command -v bwrap >/dev/null && command -v jq >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine runc bubblewrap jq >/dev/null; }
	bench/start.sh $(BENCH_ROUNDS)
	bench/compile.sh
	bench/scale.sh

clean: ## remove build output and caches (not the demo rootfs)
	rm -rf dist .cache
