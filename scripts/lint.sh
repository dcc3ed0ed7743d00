#!/usr/bin/env bash
# The house rules clang-format cannot express (STYLE.md): banned functions, no // comments,
# libsodium only in src/crypto, database drivers only in src/store. Exits 1 on any finding.
set -u
cd "$(dirname "$0")/.."
fail=0
report() { echo "lint: $*"; fail=1; }
files=$(git ls-files 'src/*.c' 'src/*.h' 'include/*.h' 'tests/unit/*.c' 'tests/unit/*.h')
# Comment lines are not code: drop lines that open or continue a /* */ block before looking.
code() { grep -nvE '^\s*(/\*|\*)' "$1" | sed -E 's#/\*.*\*/##g'; }
for f in $files; do
    if code "$f" | grep -E '\b(strcpy|strcat|sprintf|vsprintf|atoi|atol|rand|srand|gets)\s*\(' | grep -vE 'snprintf|vsnprintf' >/dev/null; then
        report "$f: banned function: $(code "$f" | grep -E '\b(strcpy|strcat|sprintf|vsprintf|atoi|atol|rand|srand|gets)\s*\(' | grep -vE 'snprintf|vsnprintf' | head -1)"
    fi
    if code "$f" | grep -E '(^|[^:"])//' | grep -vE '"[^"]*//[^"]*"' >/dev/null; then
        report "$f: // comment: $(code "$f" | grep -E '(^|[^:"])//' | grep -vE '"[^"]*//[^"]*"' | head -1)"
    fi
    case "$f" in
    src/crypto/*) ;;
    *) grep -q '<sodium.h>' "$f" && report "$f: <sodium.h> outside src/crypto" ;;
    esac
    case "$f" in
    src/store/*) ;;
    *) grep -qE '<(sqlite3|libpq-fe)\.h>' "$f" && report "$f: database driver outside src/store" ;;
    esac
done
# Formatting (.clang-format), where clang-format is installed.
if command -v clang-format >/dev/null 2>&1; then
    for f in $files; do
        if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
            report "$f: not clang-formatted (run: clang-format -i $f)"
        fi
    done
fi
exit $fail
