# The two commands a newcomer needs: `make run` and `make test`.
GO       ?= go
PKGS     ?= ./...
# FUZZTIME, when set (60s, 1000000x), applies to every target; by default each
# runs its own count of inputs, a few seconds' worth here. A count, not a
# duration: with a duration Go 1.26's fuzz coordinator may fail a clean run with
# "context deadline exceeded" as time runs out (golang/go#75804, fixed in 1.27).
FUZZTIME ?=
DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/socialwallet?sslmode=disable
export DATABASE_URL

# Fuzz targets, as package:Target:inputs; `make test` runs each.
FUZZ = ./wallet:FuzzParseIIN:200000 ./wallet:FuzzNormalizePhone:200000 ./wallet:FuzzParseRegistryRecord:200000 \
       ./wallet:FuzzParseRegistryCSV:60000 ./pos:FuzzDecodeRedeem:20000 ./pos:FuzzParseQRToken:20000 \
       ./wallet:FuzzCheckIIN:100000 ./bot:FuzzUpdateJSON:40000 ./e2e:FuzzButtonData:5000 ./wallet:FuzzPlanWave:150000

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
	@for t in $(FUZZ); do pkg=$${t%%:*}; rest=$${t#*:}; name=$${rest%%:*}; n=$${rest#*:}; \
	  ft="$(FUZZTIME)"; ft=$${ft:-$${n}x}; \
	  echo "fuzz $$name ($$ft)"; \
	  $(GO) test -run='^$$' -fuzz="^$$name$$" -fuzztime=$$ft $$pkg || exit 1; done

bench:
	$(GO) run ./cmd/bench
