# The whole test suite: vet, then every test (unit, fuzz seed corpora,
# end-to-end against the real binary) with the race detector.
.PHONY: test build bench fuzz

GO ?= go

test:
	$(GO) vet ./...
	$(GO) test -race -timeout 20m ./...

build:
	$(GO) build -o bin/sluice ./cmd/sluice

# End-to-end throughput table (see bench/README.md).
bench:
	$(GO) run ./bench -runs 3

# Short coverage-guided fuzzing of every fuzz target.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list 'Fuzz.*' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run XXX -fuzz "^$$f$$" -fuzztime 30s $$pkg || exit 1; \
	  done; \
	done
