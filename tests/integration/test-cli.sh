#!/bin/bash
# The admin CLI as an administrator meets it: init and its permission
# model, user management, exit statuses, password input, JSON output.
. "$(dirname "$0")/lib.sh"

write_conf
DB=$T/store/cuttle.db

out=$(CUTTLE user list 2>&1)
is "$?" 3 "command on a missing store: exit 3"
case $out in *"cuttle init"*) ok "... and the message names cuttle init" true ;;
*) ok "... and the message names cuttle init (got: $out)" false ;; esac

CUTTLE init > /dev/null
is "$?" 0 "init creates the store"
is "$(stat -c '%U:%G %a' "$T/store")" "root:proxy 2770" "store directory root:proxy 2770"
is "$(stat -c '%U:%G %a' "$DB")" "root:proxy 660" "cuttle.db root:proxy 0660"
is "$(sqlite3 "$DB" 'PRAGMA journal_mode')" "wal" "store in WAL mode"
is "$(sqlite3 "$DB" 'PRAGMA user_version')" "2" "schema version 2"
ok "dummy hash made by init" test -n "$(sqlite3 "$DB" "SELECT value FROM settings WHERE key = 'dummy_hash'")"
out=$(CUTTLE init)
is "$?" 0 "init again: exit 0"
case $out in *"up to date"*) ok "init again says the store is up to date" true ;;
*) ok "init again says up to date (got: $out)" false ;; esac

# An older store (version 0: an empty database) is migrated.
mkdir -p "$T/old" && chmod 700 "$T/old"
sqlite3 "$T/old/cuttle.db" 'PRAGMA user_version = 0; CREATE TABLE scratch (x);'
out=$("$T/bin/cuttle" --config "$T/cuttle.conf" --db "$T/old/cuttle.db" init)
is "$?" 0 "init on an older store"
is "$(sqlite3 "$T/old/cuttle.db" 'PRAGMA user_version')" "2" "older store migrated to version 2"
# A version 1 store with a user in it: migrated to 2, the user kept.
mkdir -p "$T/v1" && chmod 700 "$T/v1"
sqlite3 "$T/v1/cuttle.db" < "$(dirname "$0")/../../schema/001-init.sql"
sqlite3 "$T/v1/cuttle.db" "PRAGMA user_version = 1; INSERT INTO users (name, hash, created, updated, password_changed) VALUES ('old', '\$argon2id\$x', 1, 1, 1);"
"$T/bin/cuttle" --config "$T/cuttle.conf" --db "$T/v1/cuttle.db" init > "$T/out"
ok "init reports the migration from 1 to 2" grep -q "from schema version 1 to 2" "$T/out"
is "$(sqlite3 "$T/v1/cuttle.db" 'PRAGMA user_version; SELECT name FROM users; SELECT count(*) FROM groups' | tr '\n' ' ')" \
	"2 old 0 " "version 1 store migrated, users kept, new tables there"
# A store directory other users can reach (such as /tmp) is refused.
mkdir -p "$T/shared" && chmod 1777 "$T/shared"
"$T/bin/cuttle" --config "$T/cuttle.conf" --db "$T/shared/cuttle.db" init > /dev/null 2> "$T/err"
is "$?" 3 "init refuses a shared directory"
ok "... naming a directory of its own" grep -q "directory of its own" "$T/err"
# A directory holding other files (such as /var/lib) is refused too; an
# empty one made beforehand (by a package, say) is narrowed and used.
mkdir -p "$T/busy" && touch "$T/busy/other-file" && chmod 755 "$T/busy"
"$T/bin/cuttle" --config "$T/cuttle.conf" --db "$T/busy/cuttle.db" init > /dev/null 2>&1
is "$?" 3 "init refuses a directory holding other files"
mkdir -p "$T/pkgdir" && chmod 755 "$T/pkgdir"
"$T/bin/cuttle" --config "$T/cuttle.conf" --db "$T/pkgdir/cuttle.db" init > /dev/null 2>&1
is "$(stat -c '%G %a' "$T/pkgdir")" "proxy 2770" "init narrows an empty directory made beforehand"
# Parent directories init creates stay passable for Squid's user.
"$T/bin/cuttle" --config "$T/cuttle.conf" --db "$T/deep/er/cuttle.db" init > /dev/null 2>&1
is "$(stat -c '%a' "$T/deep") $(stat -c '%a' "$T/deep/er")" "755 2770" "parents 0755, store directory 2770"
# A missing Squid group is a config error naming the key.
printf '[store]\nsquid_group = no-such-group\n' > "$T/nogroup.conf"
"$T/bin/cuttle" --config "$T/nogroup.conf" --db "$T/x/cuttle.db" init 2> "$T/err"
is "$?" 2 "unknown squid_group: exit 2"
ok "... naming squid_group" grep -q "squid_group" "$T/err"

# user add: stdin, generate, refusals.
printf 'secret one\n' | CUTTLE user add Bob --password-stdin --comment "front desk" 2> "$T/err"
is "$?" 0 "user add --password-stdin"
is "$(CUTTLE user show bob --json | jq -r .name)" "bob" "name folded to lower case"
printf 'x\n' | CUTTLE user add bob --password-stdin 2> "$T/err"
is "$?" 1 "adding an existing user: exit 1"
ok "... says it exists" grep -q "already exists" "$T/err"
gen=$(CUTTLE user add carol --generate 2> "$T/err")
is "$?" 0 "user add --generate"
ok "generated password printed once, alone, 20 characters" \
	test "$(printf '%s\n' "$gen" | wc -l)" -eq 1 -a "${#gen}" -eq 20
helper_as_proxy <<< "carol $gen" > "$T/out"
is "$(cat "$T/out")" "OK reason_=ok" "generated password works in the helper"
printf '\n' | CUTTLE user add dave --password-stdin 2> "$T/err"
is "$?" 1 "empty password refused"
CUTTLE user show dave > /dev/null 2>&1
is "$?" 1 "... and nothing was written"
CUTTLE user add eve --password 'x' 2> "$T/err"
is "$?" 2 "--password argument refused: exit 2"
ok "... saying why" grep -q "never taken as an argument" "$T/err"
CUTTLE user add eve --generate --password-stdin < /dev/null 2> /dev/null
is "$?" 2 "--generate with --password-stdin: exit 2"
CUTTLE user add eve --expires 2026-02-30 --generate > /dev/null 2> "$T/err"
is "$?" 2 "bad --expires date: exit 2"
ok "... naming the format" grep -q "YYYY-MM-DD" "$T/err"
CUTTLE user add "$(printf 'bad\tname')" --generate > /dev/null 2>&1
is "$?" 2 "control character in a name: exit 2"
CUTTLE user add eve < /dev/null > /dev/null 2> "$T/err"
is "$?" 2 "no terminal to prompt on: exit 2"
ok "... naming --password-stdin" grep -q -- "--password-stdin" "$T/err"

# The terminal prompt: no echo, asked twice (script(1) gives us a pty).
out=$( (sleep 0.5; printf 'tty pass\n'; sleep 0.3; printf 'tty pass\n'; sleep 0.5) |
	script -qec "$T/bin/cuttle --config $T/cuttle.conf user add frank" /dev/null)
ok "prompted add succeeded" test "$(CUTTLE user show frank --json | jq -r .state)" = active
ok "the typed password was not echoed" sh -c "! printf '%s' \"\$1\" | grep -q 'tty pass'" _ "$out"
helper_as_proxy <<< "frank tty%20pass" > "$T/out"
is "$(cat "$T/out")" "OK reason_=ok" "prompted password works in the helper"
( (sleep 0.5; printf 'one\n'; sleep 0.3; printf 'two\n'; sleep 0.5) |
	script -qec "$T/bin/cuttle --config $T/cuttle.conf user add gina" /dev/null ) > /dev/null
CUTTLE user show gina > /dev/null 2>&1
is "$?" 1 "mismatched retype: user not added"

# passwd, lock, unlock, disable, enable, del and their exit statuses.
printf 'secret two\n' | CUTTLE user passwd bob --password-stdin 2> /dev/null
is "$?" 0 "passwd"
helper_as_proxy <<< "bob secret%20two" > "$T/out"
is "$(cat "$T/out")" "OK reason_=ok" "new password works"
printf 'x\n' | CUTTLE user passwd nobody --password-stdin 2> /dev/null
is "$?" 1 "passwd of an unknown user: exit 1"
CUTTLE user lock bob --for 2s 2> /dev/null
is "$(CUTTLE user show bob --json | jq -r .state)" "locked" "lock --for: locked"
ok "locked_until is RFC 3339 UTC" sh -c "CUTTLE() { \"$T/bin/cuttle\" --config \"$T/cuttle.conf\" \"\$@\"; }; \
	CUTTLE user show bob --json | jq -r .locked_until | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'"
sleep 3
is "$(CUTTLE user show bob --json | jq -r .state)" "active" "timed lock ends by itself"
CUTTLE user lock bob 2> /dev/null
helper_as_proxy <<< "bob secret%20two" > "$T/out"
is "$(cat "$T/out")" "ERR reason_=locked Account locked" "locked user refused in the helper"
CUTTLE user unlock bob 2> /dev/null
CUTTLE user disable bob 2> /dev/null
is "$(CUTTLE user show bob --json | jq -c '[.state, .disabled, .locked]')" '["disabled",true,false]' \
	"unlock then disable"
CUTTLE user enable bob 2> /dev/null
is "$(CUTTLE user show bob --json | jq -r .state)" "active" "enable"
CUTTLE user lock bob --for 0s 2> /dev/null
is "$?" 2 "lock --for 0s: exit 2"
CUTTLE user lock bob --for soon 2> /dev/null
is "$?" 2 "lock --for soon: exit 2"
CUTTLE user del nobody 2> /dev/null
is "$?" 1 "del of an unknown user: exit 1"
printf 'pw\n' | CUTTLE user add henry --password-stdin --expires 2099-12-31 2> /dev/null
is "$(CUTTLE user show henry --json | jq -r .expires)" "2100-01-01T00:00:00Z" \
	"--expires YYYY-MM-DD: valid through that day (UTC)"
printf 'pw\n' | CUTTLE user add ivan --password-stdin --expires 2099-06-01T12:30:00+02:00 2> /dev/null
is "$(CUTTLE user show ivan --json | jq -r .expires)" "2099-06-01T10:30:00Z" "--expires RFC 3339"
CUTTLE user set ivan --expires never --comment "moved on" 2> /dev/null
is "$(CUTTLE user show ivan --json | jq -c '[.expires, .comment]')" '[null,"moved on"]' "user set --expires never --comment"
CUTTLE user set ivan 2> /dev/null
is "$?" 2 "user set with nothing to set: exit 2"
long=$(head -c 1000 /dev/zero | tr '\0' 'c')
CUTTLE user set ivan --comment "$long" 2> /dev/null
is "$(CUTTLE user show ivan --json | jq -r '.comment | length')" 1000 "a 1000-byte comment is kept"
CUTTLE user set ivan --comment "${long}c" 2> "$T/err"
is "$?" 2 "a 1001-byte comment: exit 2"
ok "... saying it is too long" grep -q "longer than 1000" "$T/err"
pw1024=$(head -c 1024 /dev/zero | tr '\0' 'p')
printf '%s\n' "$pw1024" | CUTTLE user passwd ivan --password-stdin 2> /dev/null
is "$?" 0 "a 1024-byte password is accepted"
printf '%s\n' "${pw1024}p" | CUTTLE user passwd ivan --password-stdin 2> "$T/err"
is "$?" 2 "a 1025-byte password: exit 2"
CUTTLE user set ivan --comment "$(printf 'caf\351 \303\251')" 2> /dev/null
is "$(CUTTLE user show ivan --json | jq -r .comment)" "caf� é" "invalid UTF-8 in a comment still gives valid JSON"

# list --json: an array with the documented fields, valid JSON.
CUTTLE user list --json > "$T/list.json"
ok "user list --json is valid JSON" sh -c "jq -e 'type == \"array\"' '$T/list.json' > /dev/null"
is "$(jq -r '[.[].name] | join(",")' "$T/list.json")" "bob,carol,frank,henry,ivan" "list in name order"
ok "no hash or password in list output" sh -c "! grep -Eq 'argon2id[$]|secret two|tty pass' '$T/list.json'"
is "$(jq -r '.[0] | keys_unsorted | join(",")' "$T/list.json")" \
	"name,state,disabled,locked,locked_until,expires,comment,created,updated,password_changed,hash_scheme" \
	"documented JSON fields, in order"
is "$(jq -r '.[0].comment' "$T/list.json")" "front desk" "comment kept"
ok "no hash in any output" sh -c "! grep -q 'argon2id\\$' '$T/list.json'"
CUTTLE user del carol 2> /dev/null
is "$?" 0 "del"
is "$(CUTTLE user list | awk 'NR > 1 { print $1 }' | tr '\n' ' ')" "bob frank henry ivan " "plain list"

# Bad invocations: exit 2 with the argument named.
CUTTLE user frobnicate 2> "$T/err"
is "$?" 2 "unknown command: exit 2"
"$T/bin/cuttle" --config "$T/missing.conf" user list 2> "$T/err"
is "$?" 2 "missing --config file: exit 2"
ok "... naming the file" grep -q "missing.conf" "$T/err"
printf '[store]\npath = %s\nbogus = 1\n' "$DB" > "$T/bad.conf"
"$T/bin/cuttle" --config "$T/bad.conf" user list 2> "$T/err"
is "$?" 2 "bad config: exit 2"
ok "... naming file:line" grep -q "bad.conf:3: unknown key 'bogus'" "$T/err"
missing=
for c in "init" "user add" "user passwd" "user del" "user lock" "user unlock" \
	"user disable" "user enable" "user set" "user list" "user show" "user groups" \
	"user net add" "user net del" "user net list" "group add" "group del" "group list" \
	"group members" "allow add" "allow del" "allow list" "allow import" "check" \
	"audit" "audit stats" "audit prune" "audit why" "status" "help"; do
	"$T/bin/cuttle" help | grep -q "^  cuttle $c" || missing="$missing $c"
done
is "$missing" "" "cuttle help lists every command"
is "$("$T/bin/cuttle" help | grep -c '^  cuttle ')" 30 "30 commands in help"
ok "cuttle help user add shows its options" sh -c "'$T/bin/cuttle' help user add | grep -q -- '--expires YYYY-MM-DD'"
"$T/bin/cuttle" help frob > /dev/null 2>&1
is "$?" 2 "help on an unknown command: exit 2"

# cuttle.conf(5)'s file spelling out every default is a valid configuration.
awk '/^A file that spells out every default:/ { on = 1; next }
	on && /^\.Bd/ { next } on && /^\.Ed/ { exit } on { print }' \
	"$(dirname "$0")/../../man/cuttle.conf.5" | sed 's|^path = /var/lib/cuttle/cuttle.db$|path = '"$T"'/defaults/cuttle.db|' > "$T/defaults.conf"
ok "cuttle.conf(5)'s example of every default has [cache] and [auth] workers" \
	sh -c "grep -q '^\[cache\]' '$T/defaults.conf' && grep -q '^workers = auto' '$T/defaults.conf'"
out=$("$T/bin/cuttle" --config "$T/defaults.conf" status 2>&1)
rc=$?
ok "... and cuttle reads it without a configuration error (exit $rc: $out)" [ "$rc" -ne 2 ]

done_testing
