# Cairn — build, run and test. `make help` lists the targets.
GO        ?= go
BIN       ?= bin
DATA      ?= ./data
S3        ?= 127.0.0.1:9000
# Packages with concurrency: run under the race detector.
RACE_PKGS ?= ./internal/... ./s3gw/... ./erasure/...
# Integration tests start real storaged processes (see internal/itest).
ITEST_PKG ?= ./internal/itest/

.PHONY: help build run test unit race integration lint bench cover clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build storaged and storectl into ./bin
	$(GO) build -o $(BIN)/ ./cmd/...

run: build ## start the embedded dev cluster (S3 on $(S3), data in $(DATA))
	./$(BIN)/storaged --dev --data $(DATA) --s3 $(S3)

test: unit race integration ## unit tests, race detector, integration tests

unit: ## unit tests of every package
	$(GO) test -count=1 ./...

race: ## the race detector on the packages with concurrency
	$(GO) test -count=1 -race $(RACE_PKGS)

integration: ## real storaged processes driven by minio-go, the AWS CLI, rclone, s3cmd
	$(GO) test -count=1 -tags integration -timeout 20m -v $(ITEST_PKG)

lint: ## go vet, staticcheck, gofmt, go mod tidy -diff
	$(GO) vet ./...
	$(GO) vet -tags integration $(ITEST_PKG)
	$(GO) tool staticcheck ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) mod tidy -diff

bench: ## Go micro-benchmarks
	$(GO) test -run='^$$' -bench=. -benchmem ./erasure/ ./placement/ ./internal/... ./s3gw/

cover: ## unit-test coverage report in cover.html
	$(GO) test -coverprofile=cover.out ./...
	$(GO) tool cover -html=cover.out -o cover.html

clean: ## remove build output (not $(DATA))
	rm -rf $(BIN) cover.out cover.html
