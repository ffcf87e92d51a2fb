# Small conveniences; the README's two commands need none of them.
.PHONY: build test run bench fmt lint

build:
	go build -o . ./cmd/cardflow ./cmd/cardflow-bench

test:
	scripts/test

run:
	go run ./cmd/cardflow demo

bench:
	go run ./cmd/cardflow-bench -orders 30000

fmt:
	gofmt -w .

lint:
	test -z "$$(gofmt -l .)" && go vet ./...
