#!/bin/sh
# Golden protocol cases: feed NAME.in to basic_cuttle_auth (with the options
# in NAME.args, if any) and compare stdout with NAME.expected. The temporary
# directory's path is written as @T@ in the expected output. Prints TAP.
# With NAME.unordered, the replies are compared as a set: with channel IDs
# a helper answers each request as soon as it is decided, in any order.
srcdir=${top_srcdir:-.}/tests/proto
bin=${top_builddir:-.}
T=$(mktemp -d /tmp/cuttle-proto.XXXXXX) || exit 99
trap 'rm -rf "$T"' EXIT
umask 077

cat > "$T/cuttle.conf" <<CONF
[store]
path = $T/store/cuttle.db
squid_group = $(id -gn)
[hash]
opslimit = 1
memlimit = 8K
CONF
CUTTLE="$bin/cuttle --config $T/cuttle.conf"
if ! $CUTTLE init >/dev/null || ! . "$srcdir/setup.sh" 2>"$T/setup.err"; then
	echo "Bail out! store setup failed: $(cat "$T/setup.err")"
	exit 1
fi

n=0
for in in "$srcdir"/*.in; do
	name=$(basename "$in" .in)
	n=$((n + 1))
	args=""
	[ -f "$srcdir/$name.args" ] && args=$(cat "$srcdir/$name.args")
	eval "set -- $args"
	"$bin/basic_cuttle_auth" --config "$T/cuttle.conf" "$@" < "$in" > "$T/$name.out" 2> "$T/$name.err"
	rc=$?
	sed "s|$T|@T@|g" "$T/$name.out" > "$T/$name.got"
	cp "$srcdir/$name.expected" "$T/$name.want"
	if [ -f "$srcdir/$name.unordered" ]; then
		LC_ALL=C sort -o "$T/$name.got" "$T/$name.got"
		LC_ALL=C sort -o "$T/$name.want" "$T/$name.want"
	fi
	if [ $rc -eq 0 ] && cmp -s "$T/$name.got" "$T/$name.want"; then
		echo "ok $n - proto $name"
	else
		echo "not ok $n - proto $name (exit $rc)"
		diff "$T/$name.want" "$T/$name.got" | sed 's/^/# /' | head -20
		sed 's/^/# stderr: /' "$T/$name.err" | head -5
	fi
done
echo "1..$n"
