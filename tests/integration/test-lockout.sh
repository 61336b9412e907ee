#!/bin/bash
# Brute-force protection: throttling per name and per address, repeats of
# a stale password counted once, allow-listed clients exempt, shared by
# helper processes through state.db, cleared by `cuttle user unlock`.
. "$(dirname "$0")/lib.sh"

write_conf
cat >> "$T/cuttle.conf" <<'CONF'
[lockout]
max_failures = 3
window = 1m
duration = 1m
CONF
CUTTLE init > /dev/null || bail "cuttle init failed"
add_user alice alice-pw || bail "user add failed"
add_user bob bob-pw || bail "user add failed"
G='Invalid username or password'
# Each line through a new helper process: the state is shared via state.db.
ask() { printf '%s\n' "$1" | helper_as_proxy --key-extras '%>a' 2>/dev/null; }

for i in 1 2 3 4 5 6 7 8; do ask "alice stale-saved 10.0.0.1" > /dev/null; done
is "$(ask 'alice alice-pw 10.0.0.1')" "OK reason_=ok" "the same wrong password 8 times counts once: not throttled"
sleep 1.2
is "$(CUTTLE audit --user alice --json | jq '[.[] | select(.flags | index("repeat")) | .count] | add')" 7 \
	"the repeats are flagged in the audit log"

for pw in w1 w2 w3; do ask "alice $pw 10.0.0.2" > /dev/null; done
is "$(ask 'alice alice-pw 10.0.0.2')" "ERR reason_=throttled $G" \
	"3 different wrong passwords: throttled, generic text, even with the right password"
is "$(ask 'alice alice-pw 10.0.0.9')" "ERR reason_=throttled $G" "... from any address"
sleep 1.2
is "$(CUTTLE audit --user alice --reason throttled --json | jq -r '.[0].backend')" lockout \
	"throttled before any backend (no Argon2 work)"
ok "audit why explains it and names the way out" sh -c \
	"'$T/bin/cuttle' --config '$T/cuttle.conf' audit why alice | grep -q 'throttled after 3 different wrong passwords.*cuttle user unlock alice'"
CUTTLE user unlock alice 2>/dev/null
is "$(ask 'alice alice-pw 10.0.0.8')" "OK reason_=ok" "cuttle user unlock clears the automatic lockout"

for g in x y z; do ask "ghost-$g $g 10.0.0.3" > /dev/null; done
is "$(ask 'bob bob-pw 10.0.0.3')" "ERR reason_=throttled $G" "per address: 3 failures from 10.0.0.3 throttle it for everyone"
is "$(ask 'bob bob-pw 10.0.0.4')" "OK reason_=ok" "... other addresses are not affected"
for g in 1 2 3; do ask "ghost $g" > /dev/null; done
is "$(ask 'ghost 4')" "ERR reason_=throttled $G" "unknown names are throttled like known ones"

CUTTLE allow add 10.0.0.5 2>/dev/null
for pw in a b c d e; do ask "bob $pw 10.0.0.5" > /dev/null; done
is "$(ask 'bob bob-pw 10.0.0.5')" "OK reason_=ok" "allow-listed addresses are exempt"

for pw in a b c; do printf '%s\n' "$pw" | CUTTLE check bob --password-stdin > /dev/null; done
is "$(ask 'bob bob-pw 10.0.0.6')" "OK reason_=ok" "cuttle check does not count towards lockout"

sed -i 's/^max_failures = 3$/max_failures = 3\nenabled = no/' "$T/cuttle.conf"
for pw in a b c d; do ask "bob $pw 10.0.0.7" > /dev/null; done
is "$(ask 'bob bob-pw 10.0.0.7')" "OK reason_=ok" "[lockout] enabled = no switches it off"

found=
for pw in stale-saved alice-pw bob-pw w1 w2 w3; do
	grep -aqF "$pw" "$T"/store/state.db* && found="$found $pw"
done
is "$found" "" "no password in state.db (only keyed tags)"

done_testing
