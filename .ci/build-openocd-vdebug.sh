#!/usr/bin/env bash
# Build OpenOCD 0.12.0 with the vdebug adapter driver (--enable-vdebug; Debian's binary lacks it)
# from Debian's source package, into $PREFIX (outside the repository: nothing of OpenOCD is kept
# here). The lab's vdebug server (crates/ocdoctor-lab/src/vdebug.rs) is the one lab adapter that
# `adapter speed` reaches. Idempotent: does nothing when $PREFIX/bin/openocd says 0.12.0.
set -euo pipefail

PREFIX="${OCDOCTOR_VDEBUG_PREFIX:-/opt/ocdoctor-openocd-vdebug}"
BIN="$PREFIX/bin/openocd"

# Read all of its output (sed, not head): head closing the pipe early kills openocd (SIGPIPE).
if [ -x "$BIN" ] && "$BIN" --version 2>&1 | sed -n 1p | grep -q 'Open On-Chip Debugger 0\.12\.0$'; then
    echo "vdebug openocd: $BIN is 0.12.0 already"
    exit 0
fi

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
start=$(date +%s)

# A deb-src entry for bookworm main beside the existing binary sources (deb822 format).
SRC_LIST=/etc/apt/sources.list.d/ocdoctor-debian-src.sources
if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src ' /etc/apt/sources.list; then
    $SUDO tee "$SRC_LIST" >/dev/null <<'SOURCES'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
fi
$SUDO apt-get update -qq
$SUDO apt-get build-dep -y -qq openocd >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
# `apt-get source` fetches the .dsc, the upstream tarball and Debian's packaging tarball. The
# mirror may lack the packaging tarball (seen: 404 for openocd_0.12.0-1.debian.tar.xz); the
# driver is upstream code, so the upstream tarball is enough. It is checked against the
# SHA-256 in the signed .dsc before use.
if ! apt-get source -qq openocd 2>"$work/source.err"; then
    echo "apt-get source did not complete (continuing with the upstream tarball if verified):"
    sed 's/^/    /' "$work/source.err"
fi
dsc=$(ls openocd_0.12.0-*.dsc)
orig=openocd_0.12.0.orig.tar.bz2
[ -f "$orig" ] || { echo "no $orig from Debian's source package" >&2; exit 1; }
want=$(awk -v f="$orig" '/^Checksums-Sha256:/{s=1;next} /^[A-Z]/{s=0} s && $3==f {print $1}' "$dsc")
got=$(sha256sum "$orig" | cut -d' ' -f1)
[ -n "$want" ] && [ "$want" = "$got" ] || { echo "$orig: sha256 $got, $dsc says ${want:-nothing}" >&2; exit 1; }
if [ -d openocd-0.12.0 ]; then src=openocd-0.12.0; else tar xjf "$orig"; src=openocd-0.12.0; fi
cd "$src"

# Only the vdebug driver: every other adapter off (the build is then about 2 minutes on 2 cores).
disable=""
for d in dummy rshim ftdi stlink ti-icdi ulink usb-blaster-2 ft232r vsllink xds110 cmsis-dap-v2 \
    osbdm opendous armjtagew rlink usbprog esp-usb-jtag cmsis-dap nulink kitprog usb-blaster \
    presto openjtag buspirate jlink aice parport jtag_vpi jtag_dpi amtjtagaccel bcm2835gpio \
    imx_gpio am335xgpio ep93xx at91rm9200 gw16012 sysfsgpio xlnx-pcie-xvc remote-bitbang \
    linuxgpiod internal-libjaylink doxygen-html; do
    disable="$disable --disable-$d"
done
# shellcheck disable=SC2086
./configure -q --prefix="$PREFIX" --enable-vdebug --disable-werror --disable-internal-jimtcl $disable
grep -q '^#define BUILD_VDEBUG 1' config.h || { echo "configure did not enable vdebug" >&2; exit 1; }
make -s -j"$(nproc)" >/dev/null
$SUDO make -s install >/dev/null
"$BIN" --version 2>&1 | sed -n 1p
echo "vdebug openocd built into $PREFIX in $(( $(date +%s) - start )) s"
