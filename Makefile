# The two commands of the README:
#   make demo   install what is needed, build, and run the demo on Fixtures/sample-project
#   make test   install what is needed, build, and run every test
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

.PHONY: setup build release demo test man bench

setup:
	bash .ci/setup

build: setup
	swift build
	swift build --product generate-manual

release: setup
	swift build -c release --static-swift-stdlib

demo: release
	bash Tests/Scripts/demo.sh .build/release/mlv

# The S3 tests run against a local S3 server (moto, signatures checked) that this starts.
test: build
	bash Tests/Scripts/s3-server.sh swift test

# Regenerate the man pages after changing a command (a test fails while they are stale).
man: build
	.build/debug/generate-manual .build/debug/mlv --multi-page --date 2026-11-27 -o man

bench: release
	python3 Tests/Benchmarks/core.py
