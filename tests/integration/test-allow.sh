#!/bin/bash
# Allow lists, groups and network binding end to end: a real Squid on
# loopback with basic_cuttle_auth and ext_cuttle_acl, curl from several
# loopback addresses (127.0.0.2, 127.0.0.3, ::1).
. "$(dirname "$0")/lib.sh"

write_conf
CUTTLE init > /dev/null || bail "cuttle init failed"
CUTTLE group add staff 2>/dev/null
add_user alice alice-pw --group staff || bail "user add failed"
add_user bob bob-pw || bail "user add failed"
add_user carol carol-pw || bail "user add failed"
CUTTLE allow add 127.0.0.2 --comment "the office" 2>/dev/null
CUTTLE allow add ::1 2>/dev/null
origin_start
EXT="$T/bin/ext_cuttle_acl --config $T/cuttle.conf"
squid_start "" "auth_param basic key_extras \"%>a\"
external_acl_type cuttle_allow ttl=2 negative_ttl=2 concurrency=10 %SRC $EXT --channel-id yes
external_acl_type cuttle_group ttl=2 negative_ttl=2 %LOGIN $EXT --mode group
acl allowed external cuttle_allow
acl staff external cuttle_group staff
acl staff_note note group staff
acl via_notes urlpath_regex ^/notes
acl via_group urlpath_regex ^/group" "http_access allow allowed
http_access deny !authed
http_access allow via_notes staff_note
http_access deny via_notes
http_access allow via_group staff
http_access deny via_group
http_access allow authed
http_access deny all"
# The helper itself runs without --key-extras at first; see below.

is "$(status - --interface 127.0.0.2)" 200 "allow-listed client (127.0.0.2): 200 without credentials"
is "$(status - --interface 127.0.0.3)" 407 "other client (127.0.0.3): asked for credentials (407)"
is "$(status 'bob:bob-pw' --interface 127.0.0.3)" 200 "other client with credentials: 200"
is "$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 -x "$PROXY6" --interface ::1 "$ORIGIN_URL")" 200 \
	"allow-listed IPv6 client (::1): 200 without credentials"

CUTTLE allow del 127.0.0.2 2>/dev/null
sleep 3
is "$(status - --interface 127.0.0.2)" 407 "after allow del and the ACL ttl: asked for credentials"
CUTTLE allow add 127.0.0.0/24 2>/dev/null
sleep 3
is "$(status - --interface 127.0.0.3)" 200 "a prefix added while running: 200 within the ttl"
CUTTLE allow del 127.0.0.0/24 2>/dev/null
sleep 3

# Groups: the external group ACL (403 for non-members) and the notes the
# basic helper returns (acl … note group staff).
G="$ORIGIN_URL"
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 20 -x "$PROXY" --interface 127.0.0.3 "$@"; }
is "$(code --proxy-user alice:alice-pw "${G}group")" 200 "group ACL: member of staff: 200"
is "$(code --proxy-user bob:bob-pw "${G}group")" 403 "group ACL: not a member: 403"
is "$(code --proxy-user alice:alice-pw "${G}notes")" 200 "note group ACL from the basic helper's notes: member 200"
is "$(code --proxy-user bob:bob-pw "${G}notes")" 403 "note group ACL: not a member: 403"
CUTTLE user groups bob --add staff 2>/dev/null
sleep 3
is "$(code --proxy-user bob:bob-pw "${G}group")" 200 "added to the group: 200 once the ttl passed"

# Network binding: the helper is not yet told which field is %>a: a bound
# user is refused (fail closed) and cache.log says key_extras is missing.
CUTTLE user net add carol 127.0.0.2 2>/dev/null
is "$(status 'carol:carol-pw' --interface 127.0.0.2)" 407 "bound user, helper without --key-extras: refused"
ok "cache.log says the client address is missing" grep -q 'client address is missing' "$T/log/cache.log"
squid_stop
squid_start "--key-extras %>a" "auth_param basic key_extras \"%>a\""
is "$(status 'carol:carol-pw' --interface 127.0.0.2)" 200 "bound user from its network: 200"
is "$(status 'carol:carol-pw' --interface 127.0.0.3)" 407 "bound user from another address: 407"
is "$(status 'bob:bob-pw' --interface 127.0.0.3)" 200 "unbound user from anywhere: 200"
CUTTLE user net del carol 127.0.0.2 2>/dev/null
sleep 3
is "$(status 'carol:carol-pw' --interface 127.0.0.3)" 200 "network removed: 200 from anywhere"

# The userip mode of ext_cuttle_acl, and bad input, directly.
CUTTLE user net add carol 10.0.0.0/8 2>/dev/null
out=$(printf 'carol 10.1.2.3\ncarol 11.0.0.1\nbob 11.0.0.1\ncarol -\n7 carol 10.9.9.9\n0 carol 11.1.1.1 -\n123 10.1.1.1 -\n' |
	runuser -u "$SQUID_USER" -- $EXT --mode userip 2>/dev/null | tr '\n' '|')
is "$out" "OK reason_=ok|ERR reason_=ip_not_allowed|OK reason_=ok|BH reason_=bad_request bad request: '-' is not an IP address|7 OK reason_=ok|0 ERR reason_=ip_not_allowed|OK reason_=ok|" \
	"userip mode: inside, outside, unbound, '-', channel IDs (with Squid's trailing '-'), numeric login"
out=$(printf '127.0.0.1\n-\ngarbage\n10.0.0.1/8\n1 ::ffff:127.0.0.1\n\n' |
	runuser -u "$SQUID_USER" -- $EXT 2>/dev/null | cut -d' ' -f1-2 | tr '\n' '|')
is "$out" "ERR reason_=not_allowed|BH reason_=bad_request|BH reason_=bad_request|BH reason_=bad_request|1 ERR|BH reason_=bad_request|" \
	"allow mode: bad input answered, the next line still works"
CUTTLE allow add 127.0.0.1 2>/dev/null
out=$(printf '::ffff:127.0.0.1\n' | runuser -u "$SQUID_USER" -- $EXT 2>/dev/null)
is "$out" "OK reason_=ok" "IPv4-mapped IPv6 matches the IPv4 entry"

# A running helper sees CLI changes within a second, and expiries on time.
coproc X { runuser -u "$SQUID_USER" -- $EXT 2>/dev/null; }
xask() { printf '%s\n' "$1" >&"${X[1]}"; IFS= read -r -t 10 R <&"${X[0]}"; }
xask 127.0.0.9; is "$R" "ERR reason_=not_allowed" "running helper: not yet allowed"
CUTTLE allow add 127.0.0.9 --expires "$(date -u -d '+3 seconds' +%Y-%m-%dT%H:%M:%SZ)" 2>/dev/null
sleep 0.5
xask 127.0.0.9; is "$R" "OK reason_=ok" "running helper: an entry added by the CLI applies within a second"
sleep 3.5
xask 127.0.0.9; is "$R" "ERR reason_=not_allowed" "running helper: the entry stops matching at its expiry"
exec {X[1]}>&-
wait "$X_PID" 2>/dev/null

# Bulk import: 100,000 entries, all or nothing, fast lookups.
python3 - "$T/big.txt" <<'PY' 2>/dev/null || awk 'BEGIN { for (i = 0; i < 100000; i++) printf "10.%d.%d.%d\n", int(i/65536), int(i/256)%256, i%256 }' > "$T/big.txt"
import sys
with open(sys.argv[1], "w") as f:
    for i in range(100000):
        f.write("10.%d.%d.%d\n" % (i >> 16, (i >> 8) & 255, i & 255))
PY
printf '# office\n192.0.2.0/24\n' >> "$T/big.txt"
CUTTLE allow import "$T/big.txt" --list big 2>/dev/null
is "$?" 0 "import of 100001 entries"
is "$(CUTTLE allow list --list big | tail -n +2 | wc -l)" 100001 "all entries on the list"
printf '10.9.9.9\n10.0.0.1/8\n' | CUTTLE allow import - --list big --replace 2> "$T/err"
is "$?" 2 "a bad entry: the whole import refused"
ok "... naming its line and the corrected prefix" grep -q 'stdin:2:.*did you mean 10.0.0.0/8' "$T/err"
is "$(CUTTLE allow list --list big | tail -n +2 | wc -l)" 100001 "... and the list is unchanged"
out=$(printf '10.1.134.158 big\n10.200.0.1 big\n192.0.2.77 big\n10.1.134.158\n' |
	runuser -u "$SQUID_USER" -- $EXT 2>/dev/null | cut -d' ' -f1 | tr '\n' ' ')
is "$out" "OK ERR OK ERR " "lookups in the 100,000-entry list (and lists kept apart)"
printf '192.0.2.0/24\n' | CUTTLE allow import - --list big --replace 2>/dev/null
is "$(CUTTLE allow list --list big | tail -n +2 | wc -l)" 1 "--replace swaps the list"

done_testing
