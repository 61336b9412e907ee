#!/bin/bash
# The same requests through Squid's own basic_ldap_auth and through
# basic_cuttle_auth with the same options: the answers agree, except where
# basic_cuttle_auth(8) documents a deliberate difference, asserted here.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/slapd.sh"

THEIRS=/usr/lib/squid/basic_ldap_auth
[ -x "$THEIRS" ] || bail "$THEIRS missing (Debian's squid package)"
slapd_start a

# request | ours | theirs with -P | theirs without -P (first word only)
cat > "$T/cases" <<'CASES'
alice alice-pw|OK ok|OK|OK
alice wrong|ERR bad_password|ERR|BH
nobody x|ERR unknown_user|BH|BH
dup dup-pw|ERR ambiguous_user|OK|OK
locked locked-pw|ERR locked|ERR|BH
expired expired-pw|ERR expired|ERR|BH
bob bob-pw|OK ok|OK|OK
st*r(x)\ meta-pw|OK ok|OK|OK
*%20 x|ERR unknown_user|ERR|ERR
alice |ERR bad_password|ERR|ERR
CASES
cut -d'|' -f1 "$T/cases" > "$T/req"
OPTS=(-b "$LDAP_BASE" -f '(uid=%s)' -D "$LDAP_BIND_DN" -W "$LDAP_BINDPW_FILE" -H "$LDAP_URI_a")
run() { runuser -u "$SQUID_USER" -- "$@" < "$T/req" 2>/dev/null; }
run "$T/bin/basic_cuttle_auth" "${OPTS[@]}" > "$T/ours"
run "$THEIRS" -P "${OPTS[@]}" > "$T/theirs-P"
run "$THEIRS" "${OPTS[@]}" > "$T/theirs"
run "$T/bin/basic_cuttle_auth" -P "${OPTS[@]}" > "$T/ours-P"

is "$(wc -l < "$T/theirs")" "$(wc -l < "$T/req")" "basic_ldap_auth answered every request"
is "$(cat "$T/ours-P")" "$(cat "$T/ours")" "-P changes nothing in ours (connections always persist)"
i=0
while IFS='|' read -r req ours theirsP theirs; do
	i=$((i + 1))
	got=$(sed -n "${i}p" "$T/ours" | sed -E 's/^(OK|ERR|BH)( reason_=([a-z_]+))?.*/\1 \3/; s/ $//')
	is "$got" "$ours" "ours: '$req' → $ours"
	is "$(sed -n "${i}p" "$T/theirs-P" | cut -d' ' -f1)" "$theirsP" "basic_ldap_auth -P: '$req' → $theirsP"
	is "$(sed -n "${i}p" "$T/theirs" | cut -d' ' -f1)" "$theirs" "basic_ldap_auth: '$req' → $theirs"
done < "$T/cases"

# DN-template mode (-u), same comparison.
printf 'alice alice-pw\nalice wrong\nnobody x\n' > "$T/req"
run "$T/bin/basic_cuttle_auth" -b "$LDAP_PEOPLE" -u uid -P "$LDAP_URI_a" | cut -d' ' -f1-2 > "$T/ours"
run "$THEIRS" -b "$LDAP_PEOPLE" -u uid -P "$LDAP_URI_a" | cut -d' ' -f1 > "$T/theirs"
is "$(tr '\n' ' ' < "$T/ours")" "OK reason_=ok ERR reason_=bad_password ERR reason_=bad_password " \
	"ours, DN template: unknown and wrong are both bad_password"
is "$(tr '\n' ' ' < "$T/theirs")" "OK ERR ERR " "basic_ldap_auth -P, DN template: OK ERR ERR"

done_testing
