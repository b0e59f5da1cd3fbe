# The two commands of the README, plus the pieces they are made of.
#   make run    install what is missing, build, and run the agent on embedded defaults
#   make test   install what is missing, build, and run every test
SWIFT ?= swift

.PHONY: run test deps test-deps build build-tests lint format release

run: deps
	$(SWIFT) build --product edge-agent
	$(SWIFT) run --skip-build edge-agent serve

test: test-deps build-tests
	$(SWIFT) test --skip-build

deps:
	provisioning/install-build-deps.sh

test-deps:
	provisioning/install-build-deps.sh --test

build-tests:
	$(SWIFT) build --build-tests

lint: test-deps
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift
	shellcheck provisioning/*.sh .ci/run

format:
	$(SWIFT) format format --in-place --recursive Sources Tests Package.swift

release: deps
	$(SWIFT) build -c release --product edge-agent
