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
	@echo "== 检查一个单位的模板（未填写第五部分，会有一条警告）=="
	$(BIN) check "$(OUT)/templates/2020/231083102000_山市镇人民政府_2020.xlsx"
	@echo "== 汇总 2020 年度交回的工作簿（此处用未填写的模板代替）=="
	-$(BIN) ingest $(OUT)/templates/2020 --units samples/units.csv --year 2020 --out $(OUT)/ingest/2020
	@echo
	@echo "模板：$(OUT)/templates/2020、$(OUT)/templates/2024（各含分发清单.csv 和空白模板）"
	@echo "汇总：$(OUT)/ingest/2020（values.csv、units.csv、rollup.csv、diagnostics.csv、files.csv）"

test:
	$(CARGO) test --locked --all-targets

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

bench: build
	scripts/bench.sh

clean:
	rm -rf $(OUT)
