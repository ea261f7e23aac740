# Charter. `make run` starts the server on :8080 with ./data/charter.db and
# a fictional demo team;
# `make test` runs the whole suite (set CHARTER_TEST_POSTGRES_URL to include
# PostgreSQL, as .ci/run does).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
GO ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: run build test lint bench fuzz fuzz-ci crashtest load soak clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/charter ./cmd/charter

# The demo team makes the dashboard realistic on first start; it loads only
# into an empty roster.
run: build
	./bin/charter serve --demo

# The race detector runs on the packages with concurrency of their own
# (the store's writer turns, the jobs' claims, the outbox sender) and on
# the server tests that send requests at once (the public-form and
# download limits, the browser journeys against a live server). The
# server's other tests (sequential requests) and every other package run
# without it, side by side: the detector triples their time, and make
# test must stay under ten minutes on 2 cores. The timeouts only stop a
# hang: a loaded machine makes the suite slower, never failed.
RACE_PKGS := ./internal/store/... ./internal/jobs/... ./internal/notify/...
SERVER_RACE_TESTS := ^(TestPublicFormsCannotFloodOneAddress|TestPacketDownloadLimitAndExpiry|TestBrowser.*)$$
# The fpdf fork is a module of its own (internal/fpdf/CHARTER.md): its
# patches' tests run from its folder.
test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m -race $(RACE_PKGS)
	$(GO) test -count=1 -timeout 20m -race -run '$(SERVER_RACE_TESTS)' ./internal/server/
	$(GO) test -count=1 -timeout 20m -skip '$(SERVER_RACE_TESTS)' $$($(GO) list ./... | grep -v -e '/internal/store' -e '/internal/jobs' -e '/internal/notify')
	cd internal/fpdf && $(GO) test -count=1 ./...

lint:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# Every row of docs/benchmarks.md's issue-22 table, each against its
# reference measured in the same run (raw SQLite commits, a bare echo
# server serving the same bytes, `sqlite3 -csv` on the same query and
# file), 3 runs each. Each measure prints BENCHROW lines; the summary at
# the end collects them as a Markdown table (also in bin/bench.md). The
# PostgreSQL write rows need CHARTER_TEST_POSTGRES_URL and are skipped
# without it.
BENCH_LOG := bin/bench.log
bench: SHELL := /bin/bash
bench: .SHELLFLAGS := -o pipefail -c
bench:
	@mkdir -p bin
	@: > $(BENCH_LOG)
	CHARTER_WRITE_RATE=1 $(GO) test -count=1 -timeout 15m -run '^TestWriteRate$$' -v ./cmd/charter/ 2>&1 | tee -a $(BENCH_LOG)
	$(GO) test -run '^$$' -bench 'PeopleAtScale' -benchmem -timeout 30m ./internal/server/ 2>&1 | tee -a $(BENCH_LOG)
	$(GO) test -run '^$$' -bench 'RenderPacket' -benchmem ./internal/packet/ 2>&1 | tee -a $(BENCH_LOG)
	CHARTER_DOWNLOAD_LATENCY=1 $(GO) test -count=1 -timeout 15m -run '^TestPacketDownloadLatency$$' -v ./cmd/charter/ 2>&1 | tee -a $(BENCH_LOG)
	CHARTER_TRUST_RATE=1 $(GO) test -count=1 -timeout 15m -run '^TestTrustRate$$' -v ./cmd/charter/ 2>&1 | tee -a $(BENCH_LOG)
	$(GO) test -run '^$$' -bench 'AcknowledgementsExport' -benchtime 1x -timeout 30m ./internal/evidence/ 2>&1 | tee -a $(BENCH_LOG)
	$(GO) test -run '^$$' -bench 'PolicyListAPI|OverviewPage|PolicyPage' -benchmem -benchtime 2s ./internal/server/ 2>&1 | tee -a $(BENCH_LOG)
	@echo; echo "== make bench: min / median / max of 3 runs, each with its same-run reference"
	@{ echo '| measure | result | reference, same run | ratio | goal |'; echo '|---|---|---|---|---|'; \
	  sed -n 's/.*BENCHROW \(|.*\)$$/\1 |/p' $(BENCH_LOG); } | tee bin/bench.md

# The crash test at length (make test runs 20 iterations).
CRASH_ITERATIONS ?= 200
crashtest:
	CHARTER_CRASH_ITERATIONS=$(CRASH_ITERATIONS) $(GO) test -count=1 -v -timeout 30m -run '^TestCrashRecovery$$' ./cmd/charter

# vegeta at a constant rate against the real binary over a realistic mix
# (LOAD_RATE requests/s); soak runs it for 10 minutes and checks memory,
# goroutines and open files stay flat.
LOAD_RATE ?= 100
load:
	CHARTER_LOAD=1 CHARTER_LOAD_RATE=$(LOAD_RATE) CHARTER_LOAD_DURATION=60s $(GO) test -count=1 -v -timeout 10m -run '^TestLoad$$' ./cmd/charter
soak:
	CHARTER_LOAD=1 CHARTER_LOAD_SOAK=1 CHARTER_LOAD_RATE=$(LOAD_RATE) CHARTER_LOAD_DURATION=10m $(GO) test -count=1 -v -timeout 20m -run '^TestLoad$$' ./cmd/charter

# Each fuzz target for FUZZTIME; the seeds in testdata/fuzz (among them the
# inputs that once crashed) run in every `make test`.
FUZZTIME ?= 20s
fuzz:
	@set -e; for pkg in $$($(GO) list ./internal/...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$t"; \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

# Every fuzz target by execution count, as .ci/run does: .ci/fuzz-counts
# lists each target with its count, and a target in the code but not in
# the list fails, so none is skipped by accident.
FUZZ_COUNTS ?= .ci/fuzz-counts
fuzz-ci:
	@set -e; listed=$$(grep -v '^#' $(FUZZ_COUNTS) | awk 'NF {print $$1" "$$2}'); \
	for pkg in $$($(GO) list ./internal/...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "$$listed" | grep -qx "./$${pkg#*/charter/} $$t" || { echo "$$pkg $$t has no count in $(FUZZ_COUNTS)" >&2; exit 1; }; \
	  done; \
	done; \
	grep -v '^#' $(FUZZ_COUNTS) | while read -r pkg t n; do \
	  [ -n "$$pkg" ] || continue; \
	  echo "== $$pkg $$t $${n}x"; \
	  $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime "$${n}x" $$pkg; \
	done

clean:
	rm -rf bin
