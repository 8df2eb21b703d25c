# nianbao — see README.md. `make demo` runs the pipeline on the bundled samples;
# `make test` runs every test (what CI runs).

CARGO ?= cargo
BIN := target/release/nianbao
OUT := out

.PHONY: build demo test lint bench clean

build:
	$(CARGO) build --release --locked

demo: build
	$(BIN) template --year 2020 --units samples/units.csv --out $(OUT)/templates/2020
	$(BIN) template --year 2024 --units samples/units.csv --out $(OUT)/templates/2024
	@echo
	@echo "模板已生成：$(OUT)/templates/2020 与 $(OUT)/templates/2024（各含分发清单.csv 和空白模板）"

test:
	$(CARGO) test --locked --all-targets

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

bench:
	@echo "make bench: not yet implemented (see the benchmark issue)."

clean:
	rm -rf $(OUT)
