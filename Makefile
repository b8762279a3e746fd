SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c

BIN := $(CURDIR)/bin
export PATH := $(BIN):$(PATH)

# Minimum versions written into gen/go/go.mod before `go mod tidy`: the runtimes
# that match the code generators pinned in scripts/tools.sh (protoc-gen-go needs a
# runtime at least as new as itself; grpc-gateway's runtime should equal its
# generator), plus the protovalidate Go types that buf.build/go/protovalidate
# v1.4.0 requires (third_party/proto/buf/validate/validate.proto matches them).
# MVS can still raise these; keep them in step with scripts/tools.sh.
GEN_GO_PINS := \
	google.golang.org/protobuf@v1.36.12 \
	google.golang.org/grpc@v1.84.0 \
	github.com/grpc-ecosystem/grpc-gateway/v2@v2.33.0 \
	buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go@v1.36.12-20260825204119-511051f7f437.1

# Branch that `make breaking` compares against.
BREAKING_AGAINST ?= main

.DEFAULT_GOAL := help

GO_TEST_FLAGS ?= -race -count=1 -timeout 20m

.PHONY: help build run test lint vet go-test webhook-verifier volume-test sdk-test generate-sdk clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-16s %s\n", $$1, $$2}'

build: ## Build the izin binary into bin/izin (pure Go, no cgo)
	CGO_ENABLED=0 go build -o $(BIN)/izin ./server/cmd/izin

run: build ## Run izin on the embedded database with a demo tenant; prints its API key
	$(BIN)/izin serve --demo

test: lint generate-check breaking vet go-test volume-test sdk-test ## Everything CI runs: lint, fresh gen/, vet, tests on SQLite and PostgreSQL, volume, SDKs

lint: lint-proto lint-go ## gofmt, golangci-lint and buf lint
	@bad=$$(gofmt -l server gen/go/openapi); if [ -n "$$bad" ]; then echo "gofmt would change:"; echo "$$bad"; exit 1; fi

lint-go: tools ## golangci-lint over server/ (config: .golangci.yml)
	$(BIN)/golangci-lint run ./server/...

vet: ## go vet over every module
	go vet ./...
	cd gen/go && go vet ./...

go-test: webhook-verifier ## go test -race over every module (PostgreSQL tests start their own server)
	go test $(GO_TEST_FLAGS) ./...

webhook-verifier: ## The e2e tests' independent webhook signature verifier (npm standardwebhooks, pinned)
	@scripts/webhook-verifier.sh

# The volume tests at full size (100 000 rows on each engine). Under the race
# detector, in go-test, they run at a few thousand rows: it slows the pure-Go
# SQLite about twentyfold. IZIN_VOLUME_ROWS=N changes the size.
volume-test: ## The volume tests (a first İYS backlog of 100 000 rows) without the race detector
	go test -count=1 -timeout 20m -run 'TestVolume' -v ./server/internal/e2e/ | grep -E '^(=== RUN|--- |PASS|FAIL|ok)|volume_test.go'

SDKS ?= go typescript python java

generate-sdk: generate ## Also regenerate the SDKs' committed protobuf code (TypeScript, Python)
	cd sdk/typescript && npm ci --no-audit --no-fund --loglevel=error
	rm -rf sdk/typescript/src/gen && bin/buf generate --template sdk/typescript/buf.gen.yaml
	cd sdk/python && { [ -x .venv/bin/python ] || { python3 -m venv .venv && .venv/bin/python -m pip install -q -r requirements-dev.txt; }; } \
		&& .venv/bin/python scripts/generate.py

sdk-test: build ## Each SDK's unit tests and the conformance scenario against a real izin (bin/izin)
	@for sdk in $(SDKS); do echo "== sdk/$$sdk"; IZIN_BIN=$(BIN)/izin sdk/$$sdk/test.sh || exit 1; done

clean: ## Remove build output and the embedded database
	rm -rf $(BIN)/izin data

# --- proto toolchain ---

.PHONY: tools vendor-protos generate lint-proto lint-go breaking generate-check

tools: ## Install the pinned buf + protoc-gen-* into ./bin (idempotent)
	@scripts/tools.sh

vendor-protos: tools ## Refresh third_party/proto from the pinned packages
	scripts/vendor-protos.sh

generate: tools ## Regenerate gen/ from proto/ (Go, gRPC, gateway, OpenAPI)
	@# Delete only generated files; gen/go/go.mod, go.sum and gen/go/openapi/openapi.go stay.
	find gen -type f \( -name '*.pb.go' -o -name '*.pb.gw.go' -o -name '*.swagger.json' \) -delete
	find gen -mindepth 1 -type d -empty -delete
	buf generate
	cd gen/go && go mod edit $(addprefix -require=,$(GEN_GO_PINS)) && go mod tidy

lint-proto: tools ## buf lint + buf format check on proto/
	buf lint
	buf format --diff --exit-code proto

breaking: tools ## buf breaking (FILE) against branch $(BREAKING_AGAINST), once it has protos
	@if git rev-parse -q --verify 'refs/heads/$(BREAKING_AGAINST)^{commit}' >/dev/null \
		&& git cat-file -e '$(BREAKING_AGAINST):buf.yaml' 2>/dev/null \
		&& git ls-tree -r --name-only '$(BREAKING_AGAINST)' -- proto | grep -q '\.proto$$'; then \
		echo "buf breaking --against '.git#branch=$(BREAKING_AGAINST)'"; \
		buf breaking --against '.git#branch=$(BREAKING_AGAINST)'; \
	else \
		echo "breaking: skipped: branch '$(BREAKING_AGAINST)' has no commit with buf.yaml and proto/**/*.proto yet"; \
	fi

generate-check: generate ## Fail if `make generate` changes anything under gen/
	@if [ -n "$$(git status --porcelain -- gen/)" ]; then \
		echo "generate-check: gen/ is not up to date with proto/ (run 'make generate' and commit):"; \
		git status --porcelain -- gen/; \
		git --no-pager diff --stat -- gen/; \
		git --no-pager diff -- gen/; \
		exit 1; \
	fi
	@echo "generate-check: gen/ is up to date"
