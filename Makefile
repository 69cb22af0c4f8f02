# Lifeboat build, test and lint targets. `make run` and `make test` are the
# two commands the README promises work on a fresh Debian/Ubuntu machine.

GO          ?= go
VERSION     ?= $(shell sed -n 's/^Version *= *"\(.*\)"/\1/p' FyneApp.toml)
BUILD       ?= $(shell sed -n 's/^Build *= *\([0-9]*\)/\1/p' FyneApp.toml)
LDFLAGS     := -X main.version=$(VERSION) -X main.build=$(BUILD)
BIN         := bin/lifeboat
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
TEST_FLAGS  ?= -race -timeout 30m
# The real keychain and display the tests use: a private D-Bus session with
# an unlocked gnome-keyring, and an Xvfb screen.
TEST_SESSION := installer/test-session.sh

.PHONY: versitygw
.PHONY: all deps build run demo-sim test test-short bench bench-restic crash-long screenshots lint fmt clean dist dist-test deps-dist icons

all: build

deps:
	@bash installer/deps.sh
	@bash installer/oracles.sh

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./app

# Opens the app on the built-in demo company.
run: deps build
	./$(BIN) --demo

# Runs the simulated tenant in a terminal, for trying the CLI against it.
demo-sim: build
	./$(BIN) sim serve --demo --auto-approve 3s --profile-out bin/demo-profile.json

test: deps versitygw
	bash $(TEST_SESSION) $(GO) test $(TEST_FLAGS) ./...

# versitygw: the S3 server (Object Lock on a POSIX folder) the off-site
# tests start on loopback, built once from the Go module proxy into the
# user cache folder (engine/s3store/s3test).
versitygw:
	@$(GO) run ./engine/s3store/s3test/buildgw >/dev/null

test-short: versitygw
	bash $(TEST_SESSION) $(GO) test -short ./...

# Benchmarks report ratios measured side by side in one run; see README.
# The Heavy ones (a throttled full backup of 4 mailboxes and 4 drives, peak
# memory of a 100,000-message mailbox and a 4 GB file, search over 1,000,000
# catalog items) run 3 times each and report medians.
# BenchmarkIngestS3VsFolder (engine/s3store) compares ingest into a bucket
# on the local S3 server with ingest into a folder, medians of 3 each.
# The Go benchmarks go to bin/bench.txt; installer/bench.sh compares
# `lifeboat bench ingest` with restic on a 1 GB+ corpus and measures peak
# memory on a 4 GB file, and writes bin/bench-report.txt.
bench: deps build versitygw
	@mkdir -p bin
	bash $(TEST_SESSION) $(GO) test -run '^$$' -bench . -skip Heavy -benchmem -count 5 ./... | tee bin/bench.txt
	bash $(TEST_SESSION) $(GO) test -run '^$$' -bench Heavy -benchtime 1x -count 3 -timeout 90m ./... | tee -a bin/bench.txt
	LIFEBOAT=$(BIN) bash installer/bench.sh

# Only the comparison with restic (no Go benchmarks).
bench-restic: build
	LIFEBOAT=$(BIN) bash installer/bench.sh

# The real app on the demo company under Xvfb, walked through setup, the
# dashboard during and after a backup, history, settings and a restore; a
# PNG of each step goes to bin/screenshots (app/gui/tour_test.go).
screenshots: deps
	rm -rf bin/screenshots
	LIFEBOAT_TOUR_DIR=$(CURDIR)/bin/screenshots bash $(TEST_SESSION) $(GO) test -count=1 -run '^$$' ./app/gui

# The kill -9 crash test with 500 trials instead of the 50 `make test` runs,
# and the company-sized one (four people's mail and files, backed up by one
# `lifeboat backup`) with 100 kills instead of 3, each verified, then every
# item restored byte-identical.
crash-long:
	LIFEBOAT_CRASH_TRIALS=500 LIFEBOAT_COMPANY_CRASH_TRIALS=100 $(GO) test -count=1 -timeout 90m -run 'TestCrashKill9|TestCrashCompanyKill9' -v ./app

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	GOOS=windows $(GO) vet ./engine/...
	GOOS=darwin $(GO) vet ./engine/...
	$(GO) run $(STATICCHECK) ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin

# Packages: every download this machine can build, into dist/ with
# SHA256SUMS (see README, Install). Only these targets install the
# packaging tools (mingw-w64, NSIS, osslsigncode, dpkg-dev).
deps-dist:
	@bash installer/deps.sh dist

dist: deps-dist
	bash installer/dist.sh all

# Builds every package, installs and runs the .deb against the simulated
# tenant, and checks the signed Windows programs (CI runs it).
dist-test: deps-dist
	bash installer/dist-test.sh

# Re-renders assets/icons, icon.png and icon.ico from assets/icon.svg.
icons:
	bash installer/icons.sh
