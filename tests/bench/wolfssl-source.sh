#!/bin/sh
# Build wolfSSL from Debian's own source package, with its x86-64 assembly, into a static prefix.
#
#   sh tests/bench/wolfssl-source.sh PREFIX
#
# `make WOLFSSL=source` runs this (after `sh .ci/deps source`) when PREFIX/lib/libwolfssl.a is
# missing. Debian 12 builds wolfSSL 5.5.4 without its assembly: no SP RSA/ECC fast paths, no AES-NI,
# so RSA-2048 signs at a fifth of OpenSSL's rate and AES-GCM at a tenth. This rebuilds the same
# version with the same Debian patches and the same feature set (debian/rules: --enable-distro
# --enable-pkcs11 --disable-examples, so <wolfssl/options.h> offers the API of libwolfssl-dev), adds
# --enable-sp --enable-sp-asm --enable-aesni --enable-intelasm, and installs a static library only.
#
# Cached: PREFIX/.squirrel-stamp holds the source version and the configure line; a second run with
# the same stamp does nothing. Quiet unless it fails; prints the configure line and the time taken.
#
# Environment: WOLFSSL_SOURCE_DIR  work folder (default: <repo>/build/wolfssl-source)
#              WOLFSSL_SOURCE_VERSION  Debian version to fetch (default: that of libwolfssl-dev)
#              JOBS  parallel make jobs (default: number of CPUs)
set -eu

me=wolfssl-source
die() { echo "$me: $*" >&2; exit 1; }

[ $# -eq 1 ] || { echo "usage: sh tests/bench/wolfssl-source.sh PREFIX" >&2; exit 2; }
prefix=$1
case $prefix in /*) ;; *) prefix=$(pwd)/$prefix ;; esac
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${WOLFSSL_SOURCE_DIR:-$repo/build/wolfssl-source}
upstream=5.5.4

# The Debian revision to rebuild: the one whose headers the default build compiles against, so both
# flavours carry the same security patches.
version=${WOLFSSL_SOURCE_VERSION:-}
if [ -z "$version" ] && command -v dpkg-query >/dev/null 2>&1; then
	version=$(dpkg-query -W -f='${source:Version}' libwolfssl-dev 2>/dev/null || true)
fi
case $version in "" | "$upstream"-*) ;; *) die "libwolfssl-dev is $version, this script builds $upstream; set WOLFSSL_SOURCE_VERSION=$upstream-..." ;; esac

# Debian's configure arguments (debian/rules, override_dh_auto_configure) minus its verbose-rules
# switch, then ours. --enable-distro forces a shared build too; we install and link the .a only.
# CFLAGS mirror Debian's hardening (dpkg-buildflags, hardening=+all) without its per-path noise.
debian_args="--enable-distro --enable-pkcs11 --disable-examples"
fast_args="--enable-sp --enable-sp-asm --enable-aesni --enable-intelasm"
static_args="--enable-static --disable-shared"
cflags="-O2 -fstack-protector-strong -Wformat -Werror=format-security"
# Every WOLFSSL carries a whole session, and with Debian's SESSION_CERTS a session holds
# MAX_CHAIN_DEPTH certificates of up to 3 KiB each: at the default 9, about 28 KiB per connection,
# for peer chains a server never stores. Four (a leaf and three issuers) is plenty here, and
# brings an idle TLS connection from about 58 KiB to about 43 KiB. configure copies -D flags
# into options.h, so programs compile against the same structure sizes.
# HAVE_SECRET_CALLBACK gives wolfSSL_set_tls13_secret_cb, which the programs' key logs
# (SSLKEYLOGFILE) need for TLS 1.3; Debian builds without it. Not --enable-keylog-export: its
# SHOW_SECRETS/WOLFSSL_SSLKEYLOGFILE write every secret to a fixed file by themselves.
cppflags="-D_FORTIFY_SOURCE=2 -DMAX_CHAIN_DEPTH=4 -DHAVE_SECRET_CALLBACK"
configure_line="./configure --prefix=$prefix $debian_args $fast_args $static_args CFLAGS='$cflags' CPPFLAGS='$cppflags'"
stamp_text="wolfssl ${version:-any} | $configure_line"
stamp=$prefix/.squirrel-stamp

if [ -f "$prefix/lib/libwolfssl.a" ] && [ -f "$prefix/include/wolfssl/options.h" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$stamp_text" ]; then
	exit 0
fi

mkdir -p "$work"
# Two builds started at once (two make runs) would unpack into each other.
if command -v flock >/dev/null 2>&1 && [ -z "${WOLFSSL_SOURCE_LOCKED:-}" ]; then
	WOLFSSL_SOURCE_LOCKED=1 exec flock "$work/.lock" sh "$0" "$@"
fi
# Re-check: another run may have finished while we waited for the lock.
if [ -f "$prefix/lib/libwolfssl.a" ] && [ -f "$prefix/include/wolfssl/options.h" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$stamp_text" ]; then
	exit 0
fi

for tool in apt-get dpkg-source autoreconf libtoolize make cc; do
	command -v $tool >/dev/null 2>&1 || die "$tool not found; run: sh .ci/deps source"
done

start=$(date +%s)
# Whether PREFIX holds an earlier install of ours, which the new one replaces.
ours=no
if [ -f "$stamp" ]; then ours=yes; fi
rm -f "$stamp"
log=$work/build.log
: >"$log"
fail() {
	echo "$me: $*" >&2
	if [ -s "$log" ]; then
		echo "$me: last lines of $log:" >&2
		tail -n 30 "$log" >&2
	fi
	exit 1
}

# ---- the source package -------------------------------------------------------------------------
# apt-get source needs a deb-src entry. As root, add one mirroring the deb entries already in use
# (same mirror, suites, components and key); otherwise say exactly what to add.
have_deb_src() {
	apt-cache showsrc wolfssl 2>/dev/null | grep -q "^Version: $upstream"
}
deb_src_file=/etc/apt/sources.list.d/squirrel-deb-src.sources
deb_src_list=/etc/apt/sources.list.d/squirrel-deb-src.list
make_deb_src() {
	# deb822 files: copy each stanza whose Types has "deb", as Types: deb-src.
	for f in /etc/apt/sources.list.d/*.sources; do
		if [ ! -f "$f" ] || [ "$f" = "$deb_src_file" ]; then continue; fi
		awk '
			/^Types:/ { if ($0 ~ /[ \t]deb([ \t]|$)/) print "Types: deb-src"; else print "Types: none"; next }
			{ print }
		' "$f"
		echo
	done | awk '
		BEGIN { RS = ""; ORS = "\n\n" }
		/(^|\n)Types: deb-src(\n|$)/ { print }
	'
}
make_deb_src_list() {
	# One-line format (sources.list and *.list): "deb [opts] URI SUITE COMPONENTS".
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		if [ ! -f "$f" ] || [ "$f" = "$deb_src_list" ]; then continue; fi
		sed -n 's/^[ \t]*deb[ \t]/deb-src /p' "$f"
	done
}

if ! have_deb_src; then
	text=$(make_deb_src)
	list=$(make_deb_src_list)
	[ -n "$text$list" ] || die "no Debian 'deb' entry found in /etc/apt/sources.list{,.d/} to mirror as deb-src"
	if [ "$(id -u)" -eq 0 ]; then
		if [ -n "$text" ]; then printf '%s\n' "$text" >"$deb_src_file"; fi
		if [ -n "$list" ]; then printf '%s\n' "$list" >"$deb_src_list"; fi
		echo "$me: added Debian deb-src entries in /etc/apt/sources.list.d/squirrel-deb-src.*; apt-get update"
		apt-get update -q >>"$log" 2>&1 || fail "apt-get update failed"
		have_deb_src || fail "apt-get still finds no source package wolfssl $upstream"
	else
		echo "$me: apt-get source needs a deb-src entry; as root, create $deb_src_file with:" >&2
		[ -n "$text" ] && printf '%s\n' "$text" >&2
		[ -n "$list" ] && { echo "$me: or $deb_src_list with:" >&2; printf '%s\n' "$list" >&2; }
		echo "$me: then run: apt-get update, and make WOLFSSL=source again" >&2
		exit 1
	fi
fi

dl=$work/dl
mkdir -p "$dl"
dsc=""
[ -n "$version" ] && dsc=$dl/wolfssl_${version#*:}.dsc
if [ -z "$dsc" ] || [ ! -f "$dsc" ]; then
	# The installed revision may have left the archive; then take the newest 5.5.4 there is.
	if [ -n "$version" ] && (cd "$dl" && apt-get source -q --download-only "wolfssl=$version") >>"$log" 2>&1; then
		:
	else
		(cd "$dl" && apt-get source -q --download-only wolfssl) >>"$log" 2>&1 || fail "apt-get source wolfssl failed"
		# shellcheck disable=SC2012 # our own download folder: Debian file names, no spaces
		dsc=$(ls -t "$dl"/wolfssl_"$upstream"-*.dsc 2>/dev/null | head -n 1)
		[ -n "$dsc" ] || fail "apt-get source did not fetch wolfssl $upstream (got: $(ls "$dl"))"
	fi
fi
# The stamp keeps the version asked for, so a fallback does not rebuild on every run.
got=$(sed -n 's/^Version: //p' "$dsc")

# A fresh tree each time the stamp changes: dpkg-source applies Debian's patches (3.0 quilt).
src=$work/wolfssl-$upstream
rm -rf "$src"
dpkg-source --no-check -x "$dsc" "$src" >>"$log" 2>&1 || fail "dpkg-source -x $dsc failed"
[ -f "$src/debian/rules" ] || fail "$src has no debian/rules"
# If Debian ever changes its feature set, this script must follow.
for arg in $debian_args; do
	grep -q -- "$arg" "$src/debian/rules" || fail "debian/rules no longer passes $arg; update $0"
done

# ---- build --------------------------------------------------------------------------------------
echo "$me: wolfSSL $got from Debian's source package"
echo "$me: $configure_line"
cd "$src"
if [ ! -x configure ]; then
	./autogen.sh >>"$log" 2>&1 || fail "./autogen.sh failed (needs autoconf automake libtool)"
fi
# shellcheck disable=SC2086
./configure --prefix="$prefix" $debian_args $fast_args $static_args \
	CFLAGS="$cflags" CPPFLAGS="$cppflags" >>"$log" 2>&1 || fail "configure failed"
for def in WOLFSSL_HAVE_SP_RSA WOLFSSL_HAVE_SP_ECC WOLFSSL_AESNI USE_INTEL_SPEEDUP WOLFSSL_SP_X86_64_ASM HAVE_SECRET_CALLBACK; do
	grep -q "#define $def\$" wolfssl/options.h || fail "configure did not enable $def (see wolfssl/options.h)"
done
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
make -j"$jobs" >>"$log" 2>&1 || fail "make failed"
# Stale headers of an earlier build of ours would mix with the new ones; never remove anything from
# a prefix we did not fill (it may be /usr/local).
if [ "$ours" = yes ]; then
	rm -rf "$prefix/include/wolfssl" "$prefix/include/cyassl" "$prefix"/lib/libwolfssl.* \
		"$prefix/lib/pkgconfig/wolfssl.pc"
fi
make install >>"$log" 2>&1 || fail "make install failed"
# A distro build does not install options.h (Multi-Arch); Debian's libwolfssl-dev.install copies it
# by hand. Without it, <wolfssl/options.h> would silently come from /usr/include: Debian's feature
# macros over this build's headers.
install -m 0644 wolfssl/options.h "$prefix/include/wolfssl/options.h" || fail "cannot install options.h"
[ -d "$prefix/include/cyassl" ] && install -m 0644 cyassl/options.h "$prefix/include/cyassl/options.h"
# Only the static library is ours to link; --enable-distro built a shared one as well.
rm -f "$prefix"/lib/libwolfssl.so* "$prefix"/lib/libwolfssl.la
[ -f "$prefix/lib/libwolfssl.a" ] || fail "make install left no $prefix/lib/libwolfssl.a"
printf '%s\n' "$stamp_text" >"$stamp"

secs=$(($(date +%s) - start))
echo "$me: installed $prefix/lib/libwolfssl.a in $((secs / 60))m$((secs % 60))s (log: $log)"
