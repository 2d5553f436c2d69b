# Cairn — build, run and test. `make help` lists the targets.
GO        ?= go
BIN       ?= bin
DATA      ?= ./data
S3        ?= 127.0.0.1:9000
ADMIN     ?= 127.0.0.1:7070
# Packages with concurrency: run under the race detector.
RACE_PKGS ?= ./internal/... ./s3gw/... ./erasure/...
# Integration tests start real storaged processes (see internal/itest).
ITEST_PKG ?= ./internal/itest/
# Flags for bench-compare (e.g. --quick, --cluster, --secure, --duration 20s, --json, --markdown),
# for bench-load (e.g. --workload get --size 64MiB --concurrency 32) and for
# bench-heal (e.g. --data 256MiB --load 5s --rates default,unlimited --markdown).
COMPARE_FLAGS ?=
LOAD_FLAGS    ?=
HEAL_FLAGS    ?=
# make chaos: how many processes TestChaos kills and restarts.
CHAOS_ROUNDS  ?= 200
# make bench: which benchmarks, where, how many runs of each (the tables take
# the median) and how long each run lasts; the raw output goes to BENCH_OUT.
BENCH       ?= .
BENCH_PKGS  ?= ./erasure/ ./placement/ ./internal/... ./s3gw/
BENCH_COUNT ?= 3
BENCHTIME   ?= 200ms
BENCH_STAMP := $(shell date -u +%Y%m%d-%H%M%S)
BENCH_OUT   ?= bench/out/bench-$(BENCH_STAMP).txt
# The version storaged --version and storectl version print: git describe's
# name of the commit (a tag once there is one), stamped in with -ldflags.
# Without git (a tarball), the Go toolchain's build info is the fallback.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
COMMIT  ?= $(shell c=$$(git rev-parse --short=12 HEAD 2>/dev/null) && { git diff --quiet HEAD 2>/dev/null && echo $$c || echo $$c-dirty; })
LDFLAGS ?= -X cairn/internal/version.version=$(VERSION) -X cairn/internal/version.commit=$(COMMIT)
# make dist: release archives for these platforms, in DIST.
DIST      ?= dist
PLATFORMS ?= linux/amd64 linux/arm64
# Archive entries carry the last commit's time, so that an archive depends
# only on what it holds.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

.PHONY: help build run dist test unit race integration chaos lint bench bench-compare bench-load bench-heal cover clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

build: ## build storaged and storectl into ./bin
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/...

run: build ## start the embedded dev cluster (S3 on $(S3), admin API on $(ADMIN), data in $(DATA))
	./$(BIN)/storaged --dev --data $(DATA) --s3 $(S3) --admin $(ADMIN)

dist: ## release archives cairn-VERSION-OS-ARCH.tar.gz for $(PLATFORMS) in $(DIST)/, and their SHA256SUMS
	rm -rf $(DIST)
	mkdir -p $(DIST)
	@set -e; for p in $(PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; name=cairn-$(VERSION)-$$os-$$arch; stage=$(DIST)/$$name; \
	  echo "building $$name"; \
	  mkdir -p $$stage/systemd; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS) -s -w' -o $$stage/ ./cmd/storaged ./cmd/storectl; \
	  cp README.md LICENSE packaging/storaged.example.yaml $$stage/; \
	  cp packaging/systemd/cairn-storaged.service 'packaging/systemd/cairn-storaged@.service' packaging/systemd/cairn.sysusers $$stage/systemd/; \
	  cp -r docs $$stage/docs; \
	  tar -C $(DIST) --sort=name --owner=0 --group=0 --numeric-owner --mtime=@$(SOURCE_DATE_EPOCH) -czf $(DIST)/$$name.tar.gz $$name; \
	  rm -rf $$stage; \
	done
	cd $(DIST) && sha256sum cairn-*.tar.gz > SHA256SUMS
	@cat $(DIST)/SHA256SUMS

test: unit race integration ## unit tests, race detector, integration tests

unit: ## unit tests of every package
	$(GO) test -count=1 ./...

race: ## the race detector on the packages with concurrency
	$(GO) test -count=1 -race $(RACE_PKGS)

integration: ## real storaged processes driven by minio-go, the AWS CLI, rclone, s3cmd
	$(GO) test -count=1 -tags integration -timeout 20m -v $(ITEST_PKG)

chaos: ## the chaos test with more kills (CHAOS_ROUNDS, default 200) than make test's 12
	CAIRN_CHAOS_ROUNDS=$(CHAOS_ROUNDS) $(GO) test -count=1 -tags integration -timeout 60m -v -run 'TestChaos$$' $(ITEST_PKG)

lint: ## go vet, staticcheck, gofmt, go mod tidy -diff
	$(GO) vet ./...
	$(GO) vet -tags integration $(ITEST_PKG)
	$(GO) tool staticcheck ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) mod tidy -diff

bench: ## Go micro-benchmarks beside their raw kernels; tables of each figure as a fraction of its limit
	@mkdir -p $(BIN) $(dir $(BENCH_OUT))
	$(GO) build -o $(BIN)/ ./bench/cmd/benchtable
	$(GO) test -run='^$$' -bench='$(BENCH)' -benchmem -count=$(BENCH_COUNT) -benchtime=$(BENCHTIME) $(BENCH_PKGS) 2>&1 \
		| tee $(BENCH_OUT) | ./$(BIN)/benchtable -echo
	@echo "raw output in $(BENCH_OUT); ./$(BIN)/benchtable < $(BENCH_OUT) prints the tables again"

bench-compare: ## Cairn vs a pinned MinIO on this machine, same workloads in alternation, beside the kernels (COMPARE_FLAGS=--quick, --cluster)
	$(GO) build -o $(BIN)/ ./bench/cmd/compare
	./$(BIN)/compare $(COMPARE_FLAGS)

bench-load: ## s3load against $(S3), keys from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (LOAD_FLAGS=...)
	$(GO) build -o $(BIN)/ ./bench/cmd/s3load
	./$(BIN)/s3load --endpoint $(S3) $(LOAD_FLAGS)

bench-heal: ## repair throughput on a 6-node loopback cluster beside its raw limits, GET p99 with and without repair (HEAL_FLAGS=...)
	$(GO) build -o $(BIN)/ ./bench/cmd/healbench
	./$(BIN)/healbench $(HEAL_FLAGS)

cover: ## unit-test coverage report in cover.html
	$(GO) test -coverprofile=cover.out ./...
	$(GO) tool cover -html=cover.out -o cover.html

clean: ## remove build output (not $(DATA))
	rm -rf $(BIN) $(DIST) cover.out cover.html
