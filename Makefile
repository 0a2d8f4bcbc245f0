# The two commands a newcomer needs: `make run` and `make test`.
GO       ?= go
PKGS     ?= ./...
FUZZTIME ?= 5s
DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/socialwallet?sslmode=disable
export DATABASE_URL

# Fuzz targets, as package:Target; each runs for FUZZTIME in `make test`.
FUZZ = ./wallet:FuzzParseIIN ./wallet:FuzzNormalizePhone ./wallet:FuzzParseRegistryRecord ./wallet:FuzzParseRegistryCSV ./pos:FuzzDecodeRedeem ./pos:FuzzParseQRToken ./wallet:FuzzCheckIIN ./bot:FuzzUpdateJSON ./e2e:FuzzButtonData ./wallet:FuzzPlanWave

.PHONY: run test unit fuzz bench build vet db

build:
	$(GO) build -o bin/socialwallet ./cmd/socialwallet

# run.sh sees DATABASE_URL only when it was set, not the default above:
# without it the sandbox starts a private PostgreSQL of its own.
run: build
	$(if $(filter file,$(origin DATABASE_URL)),env -u DATABASE_URL) ./scripts/run.sh

test: vet unit fuzz

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet $(PKGS)
	@# The domain imports the standard library only.
	@if $(GO) list -deps ./wallet | grep -E '^[^/]+\.[^/]+/'; then echo "wallet imports the packages above: it must use the standard library only"; exit 1; fi

unit:
	$(GO) test -count=1 -timeout 15m $(PKGS)

fuzz:
	@for t in $(FUZZ); do pkg=$${t%%:*}; name=$${t##*:}; \
	  echo "fuzz $$name ($(FUZZTIME))"; \
	  $(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; done

bench:
	$(GO) run ./cmd/bench
