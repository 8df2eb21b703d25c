#!/usr/bin/env bash
# samples/generate.sh — regenerates the sample returned workbooks in samples/returns/.
#
# 用法 / Usage (from anywhere):   samples/generate.sh
#
# What it does, in order (see samples/README.md for what each file demonstrates):
#   1. builds the release binary (`cargo build --release --locked`; a no-op when up to
#      date; set NIANBAO=/path/to/nianbao to use another binary and skip the build);
#   2. removes samples/returns/ and fills one workbook per unit from the values files:
#        nianbao fill --year 2020 --units samples/units.csv --values samples/values_2020.csv --out samples/returns/2020
#        nianbao fill --year 2024 --units samples/units.csv --values samples/values_2024.csv --out samples/returns/2024
#   3. turns some of them into the files a coordinator really receives:
#        2020  柴河镇人民政府          saved as .xls by LibreOffice
#              大岭村村民委员会        not sent (file removed)
#        2024  山市镇人民政府          renamed by a chat app: 山市镇年报(1).xlsx
#              柴河镇人民政府          saved as .xls by LibreOffice
#              海林市卫生健康局        saved as .ods by LibreOffice
#              海林市教育局            sent twice: a first version (values_2024_first.csv,
#                                      broken T3-1) and a later correction “（更正）”;
#                                      the correction is newer and also sorts later
#              红旗村村民委员会        not sent (file removed)
#      Full-width digits, blank cells, a “—”, a broken T3-1, an X-1 mismatch and an empty
#      section 五 are in the values files themselves (raw: lines and numbers).
#   4. sets fixed modification times (the duplicate's matter: ingest keeps the newest).
#
# Needs LibreOffice (`soffice`) for the .xls/.ods conversions. Idempotent: every run
# recreates samples/returns/ from scratch. Check the result with:
#   target/release/nianbao ingest samples/returns/2020 --units samples/units.csv --out /tmp/s2020
#   target/release/nianbao ingest samples/returns/2024 --units samples/units.csv --out /tmp/s2024 --previous /tmp/s2020

set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

if [[ -z "${NIANBAO:-}" ]]; then
    cargo build --release --locked --quiet
    NIANBAO="$root/target/release/nianbao"
fi
soffice="$(command -v soffice || command -v libreoffice || true)"
if [[ -z "$soffice" ]]; then
    echo "generate.sh: LibreOffice (soffice) is needed for the .xls/.ods samples" >&2
    exit 2
fi

returns="$here/returns"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Converts $1 to format $2 (xls, ods) beside it, removing the original.
convert() {
    local file="$1" ext="$2"
    # LibreOffice's chatter (javaldx warnings) goes to a log, shown only on failure.
    if ! "$soffice" "-env:UserInstallation=file://$work/profile" --headless \
        --convert-to "$ext" --outdir "$(dirname "$file")" "$file" >"$work/soffice.log" 2>&1 \
        || [[ ! -f "${file%.xlsx}.$ext" ]]; then
        cat "$work/soffice.log" >&2
        echo "generate.sh: LibreOffice wrote no .$ext for $file" >&2
        exit 1
    fi
    rm "$file"
}

rm -rf "$returns"
mkdir -p "$returns/2020" "$returns/2024"

"$NIANBAO" fill --year 2020 --units samples/units.csv --values samples/values_2020.csv --out "$returns/2020"
"$NIANBAO" fill --year 2024 --units samples/units.csv --values samples/values_2024.csv --out "$returns/2024"
"$NIANBAO" fill --year 2024 --units samples/units.csv --values samples/values_2024_first.csv --out "$work/first"

# ── 2020 ────────────────────────────────────────────────────────────────────────────
r="$returns/2020"
convert "$r/231083103000_柴河镇人民政府_2020.xlsx" xls
rm "$r/231083103203_大岭村村民委员会_2020.xlsx"
find "$r" -type f -exec touch -d '2021-01-20 10:00:00' {} +

# ── 2024 ────────────────────────────────────────────────────────────────────────────
r="$returns/2024"
mv "$r/231083102000_山市镇人民政府_2024.xlsx" "$r/山市镇年报(1).xlsx"
convert "$r/231083103000_柴河镇人民政府_2024.xlsx" xls
convert "$r/231083001003_海林市卫生健康局_2024.xlsx" ods
rm "$r/231083102212_红旗村村民委员会_2024.xlsx"
# The bureau's correction keeps a suffix; its first version takes the template's name.
mv "$r/231083001001_海林市教育局_2024.xlsx" "$r/231083001001_海林市教育局_2024（更正）.xlsx"
mv "$work/first/231083001001_海林市教育局_2024.xlsx" "$r/231083001001_海林市教育局_2024.xlsx"
find "$r" -type f -exec touch -d '2025-01-20 10:00:00' {} +
touch -d '2025-01-10 09:00:00' "$r/231083001001_海林市教育局_2024.xlsx"
touch -d '2025-01-16 15:30:00' "$r/231083001001_海林市教育局_2024（更正）.xlsx"

echo "samples/returns/2020: $(find "$returns/2020" -type f | wc -l) 个文件；samples/returns/2024: $(find "$returns/2024" -type f | wc -l) 个文件"
