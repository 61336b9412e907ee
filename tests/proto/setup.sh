# Users every golden case can rely on. Sourced by run.sh with $CUTTLE set.
printf 'pa ss%%\n' | $CUTTLE user add Alice --password-stdin
printf 'b\n' | $CUTTLE user add bob --password-stdin
printf 'gr\303\274\303\237e\n' | $CUTTLE user add "$(printf 'j\303\274rgen')" --password-stdin
printf 'num\n' | $CUTTLE user add 12345 --password-stdin
printf 'pw\n' | $CUTTLE user add dis --password-stdin && $CUTTLE user disable dis
printf 'pw\n' | $CUTTLE user add lock --password-stdin && $CUTTLE user lock lock
printf 'pw\n' | $CUTTLE user add exp --password-stdin --expires 2020-01-01
