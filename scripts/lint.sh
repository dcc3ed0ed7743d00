#!/usr/bin/env bash
# The house rules clang-format cannot express (STYLE.md): banned functions, no // comments,
# libsodium only in src/crypto, database drivers only in src/store, the layering of STYLE.md
# (http -> app -> engine -> rules + store), at most 900 lines a file. Exits 1 on any finding.
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
# Layering (STYLE.md, docs/internals/app.md): data flows http -> app -> engine -> rules + store.
for f in $files; do
    case "$f" in
    src/http/*)
        # The transport knows nothing of storage or use cases.
        grep -qE '#include "(kith/(store|engine|queries)\.h|store/|engine/|app/)' "$f" &&
            report "$f: src/http includes a store, engine or app header"
        ;;
    src/app/*)
        # The running server submits jobs; what a job reads or writes is the engine's.
        code "$f" | grep -qE '\bkith_store_(query|query_one|exec|get|get_locked|insert|update)\s*\(' &&
            report "$f: src/app touches rows directly: $(code "$f" | grep -E '\bkith_store_(query|query_one|exec|get|get_locked|insert|update)\s*\(' | head -1)"
        grep -qE '#include "(store|engine)/' "$f" && report "$f: src/app includes a store or engine internal header"
        ;;
    src/codes/* | src/attribution/* | src/fraud/* | src/rewards/* | src/links/*)
        # Rule modules are pure: no store, no engine, no loop, no clock.
        grep -qE '#include (<uv\.h>|"kith/(store|engine|http|clock)\.h")' "$f" &&
            report "$f: a rule module includes the store, engine, loop or clock"
        ;;
    esac
done
# No source file over 900 lines: a file that long holds more than one idea.
for f in $(git ls-files 'src/*.c' 'src/*.h' 'include/*.h'); do
    n=$(wc -l <"$f")
    [ "$n" -gt 900 ] && report "$f: $n lines (at most 900)"
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
