#!/usr/bin/env python3
"""The openpyxl peer for `make bench`: what a colleague would write in an afternoon.

Reads every workbook under RETURNS with openpyxl (read-only, cached values), writes one
CSV row per number found (file, sheet, cell, value) and one row per file that could not be
read, into OUT/values.csv. No validation, no reports, no roll-ups: it is the floor of the
"script it in Python" alternative, to set nianbao's full pipeline beside.

Usage: peer_openpyxl.py RETURNS OUT
"""

import csv
import os
import sys

import openpyxl


def numbers(path):
    """(sheet, cell, value) for every number in the workbook at `path`."""
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    value = getattr(cell, "value", None)
                    if isinstance(value, (int, float)) and not isinstance(value, bool):
                        yield ws.title, cell.coordinate, value
    finally:
        wb.close()


def main():
    returns, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "values.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["file", "sheet", "cell", "value"])
        for name in sorted(os.listdir(returns)):
            path = os.path.join(returns, name)
            if not name.lower().endswith(".xlsx"):
                w.writerow([name, "", "", "not a workbook"])
                continue
            try:
                for sheet, cell, value in numbers(path):
                    w.writerow([name, sheet, cell, value])
            except Exception as e:  # a clerk's broken file must not stop the batch
                w.writerow([name, "", "", f"unreadable: {type(e).__name__}"])


if __name__ == "__main__":
    main()
