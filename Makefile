# The two commands of the README, plus the pieces they are made of.
#   make demo   install what is missing, build, and place a whole simulated call (no accounts, no network)
#   make test   install what is missing, build, and run every test
#   make run    install what is missing, build, and run the agent on embedded defaults
SWIFT ?= swift

.PHONY: demo run test deps test-deps build build-tests lint format release bench deb

demo: deps
	$(SWIFT) build --product edge-agent
	$(SWIFT) run --skip-build edge-agent demo

run: deps
	$(SWIFT) build --product edge-agent
	$(SWIFT) run --skip-build edge-agent serve

# Release build, then 1, 20 and 50 simulated calls at once with the callers in a second process,
# then the phrase cache, listening on a noisy line (see the README's benchmark section).
bench: test-deps
	$(SWIFT) build -c release --product edge-agent
	$(SWIFT) run -c release --skip-build edge-agent demo --separate-callers --calls 1
	$(SWIFT) run -c release --skip-build edge-agent demo --separate-callers --calls 20
	$(SWIFT) run -c release --skip-build edge-agent demo --separate-callers --calls 50
	$(SWIFT) run -c release --skip-build edge-agent demo --separate-callers --calls 50 --record
	$(SWIFT) build -c release --product agent-bench
	$(SWIFT) run -c release --skip-build agent-bench phrase-cache
	$(SWIFT) run -c release --skip-build agent-bench listening
	$(SWIFT) run -c release --skip-build agent-bench recognition
	$(SWIFT) run -c release --skip-build agent-bench recording
	provisioning/with-test-postgres.sh $(SWIFT) run -c release sync-benchmark
	provisioning/with-test-postgres.sh $(SWIFT) run -c release sync-benchmark calls 50 100000
	provisioning/with-test-postgres.sh $(SWIFT) run -c release chaos-drill --runs 1000 --seed 1

# Headquarters' tests get a throwaway PostgreSQL 15 on loopback, stopped and deleted afterwards; the
# real-time calls run after the rest, on their own (see provisioning/run-tests.sh).
test: test-deps build-tests
	SWIFT=$(SWIFT) provisioning/with-test-postgres.sh provisioning/run-tests.sh

deps:
	provisioning/install-build-deps.sh

test-deps:
	provisioning/install-build-deps.sh --test

build-tests:
	$(SWIFT) build --build-tests

lint: test-deps
	$(SWIFT) format lint --strict --recursive Sources Tests Benchmarks Package.swift
	shellcheck provisioning/*.sh .ci/run

format:
	$(SWIFT) format format --in-place --recursive Sources Tests Benchmarks Package.swift

release: deps
	$(SWIFT) build -c release --product edge-agent

# The Debian package of a release build: dist/edge-agent_<VERSION>_<arch>.deb (see provisioning/build-deb.sh).
deb:
	provisioning/install-build-deps.sh --deb
	$(SWIFT) build -c release --product edge-agent
	provisioning/build-deb.sh --binary-dir "$$($(SWIFT) build -c release --show-bin-path)" --output dist
