#!/bin/bash
# "smcrouted -F FILE" and "smcroute --check FILE" check a config file and
# exit: 0 for a valid file (silently), 78 for a file with errors, and then
# every error is reported (parsing goes on after the first) as
# "file:line:col: error: ...", followed by the offending line and a caret
# under the reported column.
. "$(dirname "$0")/lib.sh"

GOOD=$TMP/good.conf
BAD=$TMP/bad.conf
cat >"$GOOD" <<'CONF'
# a valid file
phyint a1 enable
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1 b2
mroute from a1 group 225.1.2.4 to b1   # (*,G) rule
mgroup from a1 group 225.1.2.5
CONF
# Four errors on lines 3, 4, 5 and 7; lines 2, 6 and 8 are valid.
cat >"$BAD" <<'CONF'
# a file with several errors
mroute from a1 source 10.0.1.2 group 225.1.2.3 to b1
mroute from a1 sorce 10.0.1.2 group 225.1.2.4 to b1
mroute from a1 source 10.0.1.2 group 225.1.2.5/33 to b1
mroute from a1 source 10.0.1.2 group 10.1.2.3 to b1
mroute from a1 source 10.0.1.2 group 225.1.2.6 to b2
frobnicate a1 b1
mroute from a1 group 225.1.2.7 to b1
CONF
# line:col of every error: 'sorce', '225.1.2.5/33', '10.1.2.3', 'frobnicate'.
WANT="3:16 4:38 5:38 7:1"

# check_errors OUTPUT-FILE: every expected error is reported, each with the
# offending line and a caret under its column, and no other error.
check_errors() {
    local out=$1 lc line col n text
    for lc in $WANT; do
        line=${lc%:*}; col=${lc#*:}
        n=$(grep -c -F -- "$BAD:$line:$col: error: " "$out")
        [ "$n" = 1 ] || fail "want exactly one '$BAD:$line:$col: error: ...' line, got $n: $(cat "$out")"
        # The two lines after the error: the config line, then the caret.
        text=$(sed -n "${line}p" "$BAD")
        awk -v key="$BAD:$line:$col: error: " -v text="$text" -v col="$col" '
            index($0, key) == 1 { want = 1; next }
            want == 1 { l = $0; sub(/^[ \t]*/, "", l); if (l != text) exit 1;
                        indent = length($0) - length(l); want = 2; next }
            want == 2 { c = index($0, "^"); if (c == 0 || c - indent != col) exit 2;
                        l = $0; gsub(/[ ^]/, "", l); if (l != "") exit 3; ok = 1; exit 0 }
            END { exit !ok }' "$out" \
            || fail "error at $line:$col is not followed by line $line and a caret under column $col: $(cat "$out")"
        say "ok: error $line:$col reported with its line and caret"
    done
    n=$(grep -c ': error: ' "$out")
    [ "$n" = 4 ] || fail "want 4 error lines, got $n: $(cat "$out")"
    for line in 2 6 8; do
        check_not "no error reported for valid line $line" grep -q -F -- "$BAD:$line:" "$out"
    done
}

# run_check NAME COMMAND...: the check of the good file exits 0, the bad 78.
run_check() {
    local name=$1; shift
    local rc
    say "+ $name $* $GOOD"
    timeout 10 "$@" "$GOOD" >"$TMP/good.out" 2>&1
    rc=$?
    [ "$rc" = 0 ] || fail "$name $* on a valid file: exit $rc, want 0: $(cat "$TMP/good.out")"
    check_not "$name: no error printed for a valid file" grep -q 'error' "$TMP/good.out"
    say "+ $name $* $BAD"
    timeout 10 "$@" "$BAD" >"$TMP/bad.out" 2>&1
    rc=$?
    [ "$rc" = 78 ] || fail "$name $* on a bad file: exit $rc, want 78: $(cat "$TMP/bad.out")"
    say "ok: $name exits 78"
    check_errors "$TMP/bad.out"
}

run_check smcrouted "$BIN/smcrouted" -F
run_check smcrouted "$BIN/smcrouted" --check
run_check smcroute "$BIN/smcroute" --check

# Checking starts nothing: no daemon socket, no kernel state.
check_not "no socket created by a check" test -e /run/smcroute.sock
[ "$(mfc_count 4)" = 0 ] || fail "MFC not empty after a check"
[ "$(vif_count 4)" = 0 ] || fail "VIFs left after a check"
pass
