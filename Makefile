# nianbao — see README.md. `make demo` runs the pipeline on the bundled samples;
# `make test` runs every test (what CI runs).

CARGO ?= cargo
# The binary cargo builds, wherever CARGO_TARGET_DIR puts it.
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
BIN := $(TARGET_DIR)/release/nianbao
OUT := out

.PHONY: build demo test lint bench clean

build:
	$(CARGO) build --release --locked

demo: build
	@rm -rf $(OUT)
	$(BIN) template --year 2024 --units samples/units.csv --out $(OUT)/templates/2024
	@echo
	@echo "== 检查一个交回的工作簿 =="
	@$(BIN) check "samples/returns/2024/231083102205_治山村村民委员会_2024.xlsx" || echo "（退出码 1：发现错误）"
	@echo "== 汇总 2020 年度交回的工作簿 =="
	@$(BIN) ingest samples/returns/2020 --units samples/units.csv --out $(OUT)/2020 || echo "（退出码 1：有单位未报送或被退回）"
	@echo
	@echo "== 汇总 2024 年度，并与 2020 年度核对 =="
	@$(BIN) ingest samples/returns/2024 --units samples/units.csv --out $(OUT)/2024 --previous $(OUT)/2020 || echo "（退出码 1：有单位未报送或被退回）"
	@echo
	@echo "看这里 / Look here:"
	@echo "  $(OUT)/2024/index.html           概览：各单位状态、完成情况、图表"
	@echo "  $(OUT)/2024/reports/             各单位年度报告（.docx 可发布，.html 可打印）"
	@echo "  $(OUT)/2024/rollups/             各上级单位汇总报告、年报汇编、文字汇编与 汇总表.xlsx"
	@echo "  $(OUT)/2024/corrections/         退回单位的修改意见工作簿"
	@echo "  $(OUT)/2024/*.csv                values、units、rollup、sections、diagnostics、files"
	@echo "  $(OUT)/templates/2024/           下发给各单位的模板与分发清单"

test:
	$(CARGO) test --locked --all-targets

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --locked --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --locked --no-deps

bench: build
	scripts/bench.sh

clean:
	rm -rf $(OUT)
