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
    src/codes/* | src/attribution/* | src/fraud/* | src/rewards/* | src/links/* | src/advocacy/* | src/qr/* | src/asks/* | src/rituals/* | src/fulfilment/* | src/stats/*)
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
# One writer per state (STYLE.md, issue 9): only src/engine/moves.c updates a referral or reward
# row, so every status change asks src/rewards first. Findings anywhere else in src/: a
# kith_store_update of those tables (any column: the writers own the rows), a "status" handed to
# kith_eng_referral_amend, and an SQL string that updates their status. Inserting a row in its
# first state is no transition and stays with its creator. A bulk statement may only be added to
# status_sql_allowed when its WHERE lists exactly the from-states the machine allows, with a unit
# test of the rule table in tests/unit/rewards that matches the SQL.
writers=src/engine/moves.c
status_sql_allowed=''
# A file as one line, comments dropped and adjacent string literals joined ("a" "b" -> "ab").
flat() { code "$1" | cut -d: -f2- | tr '\n' ' ' | sed -E 's/\\"/_/g; s/"[[:space:]]*"//g'; }
for f in $(git ls-files 'src/*.c' 'src/*.h'); do
    text=$(flat "$f")
    if [ "$f" != "$writers" ] && [ "${f#src/store/}" = "$f" ]; then
        if grep -qE 'kith_store_update[[:space:]]*\([^,()]*,[[:space:]]*"(referrals|rewards)"' <<<"$text"; then
            report "$f: updates a referral or reward row outside $writers (use kith_eng_referral_move, kith_eng_reward_move or kith_eng_referral_amend)"
        fi
        if grep -qE 'kith_eng_referral_amend[[:space:]]*\([^;]*"status"' <<<"$text"; then
            report "$f: hands \"status\" to kith_eng_referral_amend (a status changes only by a move)"
        fi
    fi
    grep -oE '(\[KITH_Q_[A-Z0-9_]+\][[:space:]]*=[[:space:]]*)?"[^"]*"' <<<"$text" |
        grep -iE '"[[:space:]]*UPDATE[[:space:]]+(referrals|rewards)[[:space:]]+SET[[:space:]]' |
        while read -r stmt; do
            id=$(grep -oE '^\[KITH_Q_[A-Z0-9_]+\]' <<<"$stmt" | tr -d '[]')
            case " $status_sql_allowed " in *" ${id:-none} "*) continue ;; esac
            if sed -E 's/[[:space:]]WHERE[[:space:]].*//I' <<<"$stmt" | grep -qiE '(SET|,)[[:space:]]*status[[:space:]]*='; then
                echo "lint: $f: ${id:-SQL} sets a referral or reward status in bulk, bypassing the state machines: $stmt"
                exit 1
            fi
        done || fail=1
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
