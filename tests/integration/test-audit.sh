#!/bin/bash
# The audit log through a real Squid: every decision with its reason,
# `cuttle audit` queries, `audit why` explanations, `cuttle check`, who
# changed what, and no password anywhere in what is recorded.
. "$(dirname "$0")/lib.sh"

write_conf
CUTTLE init > /dev/null || bail "cuttle init failed"
add_user alice 'alice secret 1' || bail "user add failed"
add_user bob 'bob secret 2' || bail "user add failed"
add_user carol 'carol secret 3' || bail "user add failed"
add_user dave 'dave secret 4' || bail "user add failed"
add_user erin 'erin secret 5' --expires 2021-01-01 || bail "user add failed"
add_user frank 'frank secret 6' || bail "user add failed"
add_user grace 'grace secret 7' || bail "user add failed"
SUDO_USER=tester CUTTLE user lock dave 2>/dev/null
CUTTLE user net add carol 127.0.0.2 2>/dev/null
origin_start
squid_start "--key-extras %>a" "auth_param basic key_extras \"%>a\""

is "$(status 'alice:alice secret 1' --interface 127.0.0.3)" 200 "alice logs in"
for i in 1 2 3; do status 'alice:an old password' --interface 127.0.0.3 > /dev/null; done
is "$(status 'bob:wrong')" 407 "bob: wrong password"
is "$(status 'nobody:whatever')" 407 "unknown user"
is "$(status 'dave:dave secret 4')" 407 "dave: locked"
is "$(status 'erin:erin secret 5')" 407 "erin: expired"
is "$(status 'carol:carol secret 3' --interface 127.0.0.2)" 200 "carol from her network"
is "$(status 'carol:carol secret 3' --interface 127.0.0.3)" 407 "carol from outside her network"
for i in 1 2 3 4 5 6; do status 'grace:last year' --interface 127.0.0.4 > /dev/null; done
for i in 1 2 3 4 5 6 7 8 9 10; do status "frank:guess $i" --interface 127.0.0.5 > /dev/null; done
is "$(status 'frank:frank secret 6' --interface 127.0.0.5)" 407 "frank after 10 different wrong passwords: 407 even with the right one"
sleep 1.5   # records are written within a second

reason_of() { CUTTLE audit --user "$1" --json | jq -r "[.[] | select(.result == \"$2\")] | last | .reason"; }
is "$(reason_of alice ok)" ok "audit: alice's success"
is "$(reason_of alice err)" bad_password "audit: alice's wrong password"
is "$(CUTTLE audit --user alice --result err --json | jq '[.[].count] | add')" 3 "audit: three failures counted"
is "$(CUTTLE audit --user alice --result err --json | jq -r '.[0].client')" 127.0.0.3 "audit: the client address (key_extras)"
is "$(reason_of bob err)" bad_password "audit: bob bad_password"
is "$(reason_of nobody err)" unknown_user "audit: unknown_user"
is "$(reason_of dave err)" locked "audit: dave locked"
is "$(reason_of erin err)" expired "audit: erin expired"
is "$(reason_of carol err)" ip_not_allowed "audit: carol ip_not_allowed"
is "$(reason_of frank err)" throttled "audit: frank throttled"
is "$(CUTTLE audit --user grace --json | jq '[.[] | select(.flags | index("repeat")) | .count] | add')" 5 \
	"audit: grace's stale password resent 5 more times, flagged repeat"
is "$(CUTTLE audit --reason ip_not_allowed --json | jq -r '.[0].client')" 127.0.0.3 "audit --reason"
is "$(CUTTLE audit --ip 127.0.0.0/30 --result ok --json | jq -r '[.[].user] | sort | unique | join(",")')" \
	"alice,carol" "audit --ip with a prefix"
is "$(CUTTLE audit --since 1h --limit 2 --json | jq length)" 2 "audit --limit"
is "$(CUTTLE audit --json | jq -r '.[0] | keys_unsorted | join(",")')" \
	"id,time,first,count,helper,user,client,result,reason,backend,flags,latency_us,detail" \
	"documented JSON fields"
bp=$(CUTTLE audit --limit 1000 --json | jq '[.[] | select(.reason == "bad_password") | .count] | add')
is "$(CUTTLE audit stats --json | jq '.by_reason[] | select(.reason == "bad_password") | .count')" "$bp" \
	"audit stats counts bad_password ($bp)"
is "$(CUTTLE audit stats --json | jq -r '.top_users[0] | "\(.name) \(.failures)"')" "frank 11" "audit stats: top failing user"

# why: plain words and what to do.
why() { CUTTLE audit why "$@" 2>&1; }
ok "why alice: stale saved password on one device" sh -c "printf '%s' \"\$1\" | grep -q 'all from 127.0.0.3; 2 of them the same wrong password again. It is one old password'" _ "$(why alice)"
ok "why dave: locked, unlock command" sh -c "printf '%s' \"\$1\" | grep -q 'cuttle user unlock dave'" _ "$(why dave)"
ok "why erin: expired, renew command" sh -c "printf '%s' \"\$1\" | grep -q 'expired at 2021-01-02T00:00:00Z'" _ "$(why erin)"
ok "why carol: password right, outside her networks" sh -c "printf '%s' \"\$1\" | grep -q '127.0.0.3 is not in carol.s networks (127.0.0.2)'" _ "$(why carol)"
ok "why grace: one stale saved password" sh -c "printf '%s' \"\$1\" | grep -q 'all from 127.0.0.4; 5 of them the same wrong password again. It is one old password sent over and over'" _ "$(why grace)"
ok "why frank: throttled, when it ends, how to unlock" sh -c "printf '%s' \"\$1\" | grep -q 'throttled after 10 different wrong passwords; it ends at .*cuttle user unlock frank'" _ "$(why frank)"
for w in 1 2 3 4 5 6 7 8 9 10; do status "walker$w:x" --interface 127.0.0.6 > /dev/null; done
add_user hal 'hal secret 8'
is "$(status 'hal:hal secret 8' --interface 127.0.0.6)" 407 "an address with 10 failures (any names) is throttled"
sleep 1.3
ok "why hal: it is the address that is throttled" sh -c "printf '%s' \"\$1\" | grep -q 'the address 127.0.0.6 is throttled after 10 failed logins'" _ "$(why hal)"
ok "why nobody: no such user" sh -c "printf '%s' \"\$1\" | grep -q \"no user 'nobody'\"" _ "$(why nobody)"
ok "why --ip: the address's story" sh -c "printf '%s' \"\$1\" | grep -q 'users: .*alice'" _ "$(why --ip 127.0.0.3)"

# cuttle check: the helper's path without Squid; exit 0 / 1 / 3.
printf 'alice secret 1\n' | CUTTLE check alice --password-stdin > "$T/check.out"
is "$?" 0 "check: right password, exit 0"
printf 'nope\n' | CUTTLE check alice --password-stdin > "$T/check.out"
is "$?" 1 "check: wrong password, exit 1"
ok "check prints the reason" grep -q 'reason bad_password' "$T/check.out"
printf 'carol secret 3\n' | CUTTLE check carol --password-stdin --ip 10.9.9.9 > "$T/check.out"
is "$?" 1 "check --ip outside the user's networks: exit 1"
ok "... ip_not_allowed" grep -q 'reason ip_not_allowed' "$T/check.out"
printf 'x\n' | "$T/bin/cuttle" --config "$T/cuttle.conf" --db "$T/missing/cuttle.db" check alice --password-stdin > /dev/null 2>&1
is "$?" 3 "check against a missing store: BH, exit 3"
sleep 0.2
is "$(CUTTLE audit --user alice --json | jq -r '[.[] | select(.flags | index("check"))] | length')" 2 \
	"checks are recorded, flagged as checks"

# Who changed what.
is "$(CUTTLE audit --admin --json | jq -r '.[] | select(.command == "user lock dave") | "\(.uid) \(.sudo_user) \(.status)"')" \
	"0 tester 0" "audit --admin: the lock, by uid 0 via sudo user tester"
ok "audit --admin: user net add recorded" sh -c "'$T/bin/cuttle' --config '$T/cuttle.conf' audit --admin | grep -q 'user net add carol 127.0.0.2'"

# --follow prints new decisions as they come.
"$T/bin/cuttle" --config "$T/cuttle.conf" audit --follow --json > "$T/follow.out" 2>&1 &
F=$!
sleep 1.5
status 'bob:follow-me-wrong' > /dev/null
sleep 2.5
kill -TERM "$F"
wait "$F"
ok "audit --follow printed the new decision, and valid JSON on exit" \
	sh -c "jq -e '[.[] | select(.user == \"bob\")] | length >= 2' '$T/follow.out' > /dev/null"

# An unwritable audit log: answers go on, stderr says so, drops are counted.
chmod 440 "$T/store/audit.db"
out=$(printf 'alice alice%%20secret%%201\nbob x\n' | helper_as_proxy 2> "$T/ro.err" | tr '\n' '|')
is "$out" "OK reason_=ok|ERR reason_=bad_password Invalid username or password|" "read-only audit.db: answers go on"
ok "read-only audit.db: said on stderr" grep -q 'audit log .*audit.db' "$T/ro.err"
chmod 660 "$T/store/audit.db"

# No password, in any form, in the audit log, Squid's logs or the helpers' stderr.
found=
for pw in 'alice secret 1' 'an old password' 'bob secret 2' 'carol secret 3' 'dave secret 4' \
	'erin secret 5' 'follow-me-wrong' 'alice%20secret%201' 'an%20old%20password'; do
	for f in "$T"/store/audit.db* "$T"/log/*; do
		[ -f "$f" ] && grep -aqF "$pw" "$f" && found="$found $pw@$(basename "$f")"
	done
done
is "$found" "" "no password in audit.db, cache.log, access.log or stderr"

# syslog: one key=value line per decision; a stuck daemon never slows answers.
"$T/bin/dgram-sink" read "$T/run/syslog.sock" > "$T/syslog.out" &
SINK=$!
sleep 0.3
printf '[audit]\nsyslog = yes\nsyslog_facility = local3\nsyslog_socket = %s\n' "$T/run/syslog.sock" >> "$T/cuttle.conf"
printf 'alice alice%%20secret%%201 10.0.0.1\nbob nope%%20nope 10.0.0.2\n' | helper_as_proxy --key-extras '%>a' > /dev/null 2>&1
sleep 0.3
kill "$SINK"
ok "syslog: the success, facility local3 (PRI 158 = local3.info)" grep -q \
	'^<158>.* cuttle\[[0-9]*\]: helper=basic_cuttle_auth user=alice client=10.0.0.1 result=ok reason=ok backend=sqlite flags=- latency_us=[0-9]* detail=-$' "$T/syslog.out"
ok "syslog: the failure (local3.notice)" grep -q '^<157>.*user=bob client=10.0.0.2 result=err reason=bad_password' "$T/syslog.out"
ok "syslog: no password" sh -c "! grep -qE 'secret|nope' '$T/syslog.out'"
# The shipped fail2ban filter finds the failing client (its regex, with
# fail2ban's prefix and <HOST> spelt out for grep -P).
re=$(sed -n 's/^failregex = \^%(__prefix_line)s//p' "$(dirname "$0")/../../contrib/fail2ban/filter.d/cuttle.conf")
re="cuttle\\[[0-9]+\\]: ${re//<HOST>/(?<host>[0-9a-f.:]+)}"
is "$(grep -oP "$re" "$T/syslog.out" | grep -oP 'client=\K\S+')" "10.0.0.2" \
	"fail2ban filter: matches the failure's client, not the success"
printf '<157>Nov 30 10:00:00 cuttle[9]: helper=basic_cuttle_auth user=bob client=10.0.0.3 result=err reason=bad_password backend=sqlite flags=repeat latency_us=1 detail=-\n' > "$T/repeat.log"
ok "fail2ban filter: repeats of a stale password are not counted" sh -c "! grep -qP \"\$1\" '$T/repeat.log'" _ "$re"
"$T/bin/dgram-sink" stuck "$T/run/stuck.sock" &
SINK=$!
sleep 0.3
sed -i "s|^syslog_socket = .*|syslog_socket = $T/run/stuck.sock|" "$T/cuttle.conf"
for i in $(seq 3000); do echo "bob wrong$i"; done > "$T/many.in"
t0=$(date +%s%N)
timeout 60 runuser -u "$SQUID_USER" -- "$T/bin/basic_cuttle_auth" --config "$T/cuttle.conf" \
	< "$T/many.in" > "$T/many.out" 2> "$T/stuck.err"
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
kill "$SINK"
is "$rc $(wc -l < "$T/many.out")" "0 3000" "stuck syslog: all 3000 answered (in ${ms} ms)"
ok "stuck syslog: said once on stderr" test "$(grep -c 'syslog .*dropping' "$T/stuck.err")" -eq 1
sed -i '/^\[audit\]$/,$d' "$T/cuttle.conf"

# Concurrent helpers and a concurrent prune: every decision answered and counted.
CUTTLE user unlock bob 2>/dev/null
sed -i 's/^\[hash\]$/[lockout]\nenabled = no\n[hash]/' "$T/cuttle.conf"
for h in 1 2 3 4; do
	for i in $(seq 1500); do echo "conc$h-$((i % 7)) x"; done > "$T/conc$h.in"
done
before=$(CUTTLE audit --since 1h --limit 100000 --json | jq '[.[] | select(.user | startswith("conc")) | .count] | add // 0')
pids=
for h in 1 2 3 4; do
	runuser -u "$SQUID_USER" -- "$T/bin/basic_cuttle_auth" --config "$T/cuttle.conf" \
		< "$T/conc$h.in" > "$T/conc$h.out" 2> "$T/conc$h.err" &
	pids="$pids $!"
done
for i in 1 2 3 4 5; do CUTTLE audit prune --older-than 30d 2>/dev/null; sleep 0.2; done
wait $pids
sleep 1.5
is "$(cat "$T"/conc?.out | grep -c '^ERR reason_=unknown_user')" 6000 "4 concurrent helpers: 6000 answers"
is "$(CUTTLE audit --since 1h --limit 100000 --json | jq '[.[] | select(.user | startswith("conc")) | .count] | add')" \
	$((before + 6000)) "... every decision counted in the audit log despite a concurrent prune"
ok "... and nothing said about dropped records" sh -c "! grep -q 'audit log' '$T'/conc?.err"
sed -i '/^\[lockout\]$/,/^enabled = no$/d' "$T/cuttle.conf"

# The shipped error page shows the helper's text (%m) to the client.
mkdir -p "$T/errors"
cp /usr/share/squid/errors/templates/* "$T/errors/"
cp "$(dirname "$0")/../../contrib/squid/ERR_CACHE_ACCESS_DENIED" "$T/errors/"
chmod -R a+rX "$T/errors"
squid_stop
squid_start "" "error_directory $T/errors"
body=$(curl -s --max-time 20 -x "$PROXY" --proxy-user 'erin:erin secret 5' "$ORIGIN_URL")
ok "error page: an expired user with the right password reads 'Account expired'" \
	sh -c "printf '%s' \"\$1\" | grep -q '<p class=\"why\">Account expired</p>'" _ "$body"
body=$(curl -s --max-time 20 -x "$PROXY" --proxy-user 'erin:wrong' "$ORIGIN_URL")
ok "error page: a wrong password reads the generic refusal" \
	sh -c "printf '%s' \"\$1\" | grep -q '<p class=\"why\">Invalid username or password</p>'" _ "$body"

CUTTLE audit prune --older-than 1s 2>/dev/null
sleep 1.1
CUTTLE audit prune --older-than 1s 2>/dev/null
is "$(CUTTLE audit --json | jq length)" 0 "audit prune --older-than removes old records"

done_testing
