# The two commands of the README:
#   make demo   install what is needed, build, and run the demo on Fixtures/sample-project
#   make test   install what is needed, build, and run every test
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

.PHONY: setup build release demo test man bench install

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
# Tests/Scripts/man.py runs generate-manual and keeps each help text's lines and symbols.
man: build
	python3 Tests/Scripts/man.py .build/debug/mlv .build/debug/generate-manual man

# Installs the binary, the man pages and shell completions under $(DESTDIR)$(PREFIX).
# MLV_BIN installs that binary instead of building the release one (the tests use the debug build).
PREFIX ?= /usr/local
MLV_BIN ?=
install:
	@if [ -z "$(MLV_BIN)" ]; then $(MAKE) release; fi
	@set -euo pipefail; \
	bin="$(MLV_BIN)"; bin="$${bin:-.build/release/mlv}"; \
	root="$(DESTDIR)$(PREFIX)"; tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	"$$bin" --generate-completion-script bash > "$$tmp/mlv"; \
	"$$bin" --generate-completion-script zsh > "$$tmp/_mlv"; \
	"$$bin" --generate-completion-script fish > "$$tmp/mlv.fish"; \
	install -d "$$root/bin" "$$root/share/man/man1" "$$root/share/man/man5" \
	  "$$root/share/bash-completion/completions" "$$root/share/zsh/site-functions" \
	  "$$root/share/fish/vendor_completions.d"; \
	install -m 755 "$$bin" "$$root/bin/mlv"; \
	install -m 644 man/*.1 "$$root/share/man/man1/"; \
	install -m 644 man/*.5 "$$root/share/man/man5/"; \
	install -m 644 "$$tmp/mlv" "$$root/share/bash-completion/completions/mlv"; \
	install -m 644 "$$tmp/_mlv" "$$root/share/zsh/site-functions/_mlv"; \
	install -m 644 "$$tmp/mlv.fish" "$$root/share/fish/vendor_completions.d/mlv.fish"; \
	echo "installed mlv in $$root/bin, man pages in $$root/share/man, completions for bash, zsh and fish"

bench: release
	python3 Tests/Benchmarks/core.py
