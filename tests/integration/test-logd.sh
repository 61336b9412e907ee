#!/bin/bash
# log_cuttle_daemon under a real Squid: access records (407s included)
# stored beside the decisions, shown by `cuttle audit --squid` and `why`,
# a plain daemon: log beside it, rotation, and a store gone missing.
. "$(dirname "$0")/lib.sh"

write_conf
CUTTLE init > /dev/null || bail "cuttle init failed"
add_user alice alice-pw || bail "user add failed"
origin_start
squid_start "" "logformat cuttle %ts.%03tu %>a %un %>Hs %rm %>rd %note{reason_}
logfile_daemon $T/bin/log_cuttle_daemon
access_log daemon:$T/store/audit.db cuttle
access_log daemon:$T/log/plain.log squid
logfile_rotate 3"

is "$(status -)" 407 "no credentials: 407"
is "$(status 'alice:alice-pw')" 200 "alice: 200"
is "$(status 'alice:wrong')" 407 "alice, wrong password: 407"
sleep 1.5
squid_json() { CUTTLE audit --squid --json "$@"; }
is "$(squid_json | jq -r '[.[] | "\(.status) \(.user) \(.reason)"] | join("|")')" \
	"407  |200 alice ok|407 alice bad_password" "access records: statuses, users and the helper's reason"
is "$(squid_json | jq -r '.[1] | "\(.client) \(.method) \(.host)"')" "127.0.0.1 GET 127.0.0.1" \
	"access record fields: client, method, host"
ok "audit why shows Squid's 407s next to the decisions" sh -c \
	"'$T/bin/cuttle' --config '$T/cuttle.conf' audit why alice | grep -q '^squid: 1 answers 407'"
ok "a plain daemon: log path is written as a file" grep -q 'TCP_DENIED/407' "$T/log/plain.log"

squid -f "$T/squid.conf" -k rotate
sleep 1
is "$(status 'alice:wrong-again')" 407 "after a rotate: 407"
sleep 1.5
ok "the plain log was rotated (plain.log.0)" test -s "$T/log/plain.log.0"
is "$(squid_json | jq '[.[] | select(.status == 407)] | length')" 3 "after a rotate: the 407 is still stored"

# The store goes away: Squid and the daemon go on; records resume when it is back.
mv "$T/store/audit.db" "$T/store/audit.db.away"
is "$(status 'alice:alice-pw')" 200 "store missing: Squid still answers"
is "$(status 'alice:alice-pw')" 200 "... and again"
ok "squid still running" kill -0 "$SQUID_PID"
ok "no FATAL in cache.log" sh -c "! grep -q FATAL '$T/log/cache.log'"
mv "$T/store/audit.db.away" "$T/store/audit.db"
squid -f "$T/squid.conf" -k rotate
sleep 1
is "$(status 'alice:back')" 407 "store back"
sleep 1.5
is "$(squid_json | jq -r '.[-1] | "\(.status) \(.user)"')" "407 alice" "records resume once the store is back"

# The daemon by itself: every command, and bad lines never stop it.
printf 'b0\nL1796000000.123 10.0.0.1 bob 407 GET example.com bad_password\nLgarbage\nX\nr2\nF\nL1796000001.000 10.0.0.2 - 200 CONNECT example.org -\n' |
	runuser -u "$SQUID_USER" -- "$T/bin/log_cuttle_daemon" "$T/store/audit.db" 2> "$T/daemon.err"
is "$?" 0 "the daemon reads to EOF and exits 0"
is "$(squid_json --user bob | jq -r '.[0] | "\(.time) \(.client) \(.status) \(.host) \(.reason)"')" \
	"2026-11-30T00:53:20Z 10.0.0.1 407 example.com bad_password" "a stored line, field by field"
ok "a line not in the cuttle format is reported" grep -q 'not in the cuttle logformat' "$T/daemon.err"
printf 'Lone\nr1\nR\nLtwo\nF\n' | runuser -u "$SQUID_USER" -- "$T/bin/log_cuttle_daemon" "$T/log/p2.log"
is "$(cat "$T/log/p2.log.0") $(cat "$T/log/p2.log")" "one two" "plain file: rotate with count 1"
printf 'Lx\nT\nLy\nF\n' | runuser -u "$SQUID_USER" -- "$T/bin/log_cuttle_daemon" "$T/log/p3.log"
is "$(cat "$T/log/p3.log")" "y" "plain file: truncate"
printf 'Lx\n' | "$T/bin/log_cuttle_daemon" 2>/dev/null
is "$?" 0 "no path: reads on and exits 0 (never fatal to Squid)"

done_testing
