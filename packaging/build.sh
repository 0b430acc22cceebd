#!/usr/bin/env bash
# Builds the DealerDesk release into dist/:
#   dealerdesk-linux-amd64, dealerdesk-linux-arm64, dealerdesk-windows-amd64.exe  static binaries
#   dealerdesk_<version>_amd64.deb, dealerdesk_<version>_arm64.deb                 Debian/UOS/Kylin packages
#   dealerdesk-<version>-windows-amd64.zip                                          unzip-and-install for Windows
#   dealerdesk-<version>-windows-amd64-setup.exe                                    only when makensis is installed
#   SHA256SUMS
#
# Environment:
#   VERSION   version to stamp (default: git describe --tags --always --dirty)
#   TARGETS   what to build (default: "linux/amd64 linux/arm64 windows/amd64")
#   DIST      output directory (default: dist/ at the repository root)
#   NFPM      the nfpm command (default: go run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2,
#             fetched through the Go module proxy on first use, then cached)
#   NSIS      0 to skip the setup.exe even when makensis is installed
#   TRIMPATH  0 to build without -trimpath (the packaging test: it then reuses the build
#             cache of "go test ./..." instead of compiling every package again, ~5 min cold)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
TARGETS=${TARGETS:-"linux/amd64 linux/arm64 windows/amd64"}
DIST=${DIST:-$root/dist}
NFPM=${NFPM:-"go run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2"}
NSIS=${NSIS:-1}
trimpath=-trimpath
[ "${TRIMPATH:-1}" = 0 ] && trimpath=
case "$DIST" in /*) ;; *) DIST="$root/$DIST" ;; esac

# A Debian version must start with a digit and sort upward: v1.4.0 -> 1.4.0,
# v1.4.0-3-gabc1234-dirty -> 1.4.0+3.gabc1234.dirty, abc1234 (no tag) -> 0.0.0+git.abc1234.
deb_version() {
	local v=${1#v}
	if [[ $v =~ ^[0-9] ]]; then
		local head=${v%%-*} tail=""
		[[ $v == *-* ]] && tail="+${v#*-}"
		v="$head${tail//-/.}"
	else
		v="0.0.0+git.${v//-/.}"
	fi
	echo "${v//[^A-Za-z0-9.+~]/.}"
}

mkdir -p "$DIST"
start=$(date +%s)
echo "DealerDesk $VERSION -> $DIST"

built=()
for t in $TARGETS; do
	goos=${t%/*} goarch=${t#*/}
	out="$DIST/dealerdesk-$goos-$goarch"
	[ "$goos" = windows ] && out="$out.exe"
	echo "  go build $goos/$goarch"
	CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch go build $trimpath \
		-ldflags "-s -w -X dealerdesk/app.Version=$VERSION" -o "$out" .
	built+=("$(basename "$out")")
done

for t in $TARGETS; do
	goos=${t%/*} goarch=${t#*/}
	case $goos in
	linux)
		deb="dealerdesk_$(deb_version "$VERSION")_$goarch.deb"
		echo "  nfpm $deb"
		DEB_ARCH=$goarch DEB_VERSION=$(deb_version "$VERSION") DIST=$DIST \
			$NFPM pkg --config packaging/nfpm.yaml --packager deb --target "$DIST/$deb" >/dev/null
		built+=("$deb")
		;;
	windows)
		name="dealerdesk-$VERSION-windows-$goarch"
		stage=$(mktemp -d)
		trap 'rm -rf "$stage"' EXIT
		mkdir "$stage/DealerDesk"
		cp "$DIST/dealerdesk-windows-$goarch.exe" "$stage/DealerDesk/dealerdesk.exe"
		# Windows line ends; the guides get a UTF-8 byte-order mark so Notepad shows the Chinese.
		for f in install.cmd uninstall.cmd; do
			sed 's/$/\r/' "packaging/windows/$f" >"$stage/DealerDesk/$f"
		done
		# The Chinese guide is kept as README-zh.txt in the repository (ASCII paths
		# stay readable in every git tool) and ships as 安装说明.txt.
		for f in README-Windows.txt:README-Windows.txt README-zh.txt:安装说明.txt; do
			{ printf '\357\273\277'; sed "s/\$/\r/; s/@VERSION@/$VERSION/g" "packaging/windows/${f%%:*}"; } >"$stage/DealerDesk/${f#*:}"
		done
		rm -f "$DIST/$name.zip"
		echo "  zip $name.zip"
		# Python's zipfile marks the Chinese file name as UTF-8 (flag bit 11), which
		# Windows Explorer honours; Info-ZIP's zip does not set it.
		if command -v python3 >/dev/null; then
			(cd "$stage" && python3 -m zipfile -c "$DIST/$name.zip" DealerDesk)
		else
			(cd "$stage" && zip -q -r -X "$DIST/$name.zip" DealerDesk)
		fi
		built+=("$name.zip")
		if [ "$NSIS" != 0 ] && command -v makensis >/dev/null; then
			echo "  makensis $name-setup.exe"
			makensis -V2 -INPUTCHARSET UTF8 -DVERSION="$VERSION" -DSRC="$stage/DealerDesk" \
				-DOUT="$DIST/$name-setup.exe" packaging/windows/setup.nsi >/dev/null
			built+=("$name-setup.exe")
		fi
		rm -rf "$stage"
		trap - EXIT
		;;
	esac
done

# Checksums of what this run made (not of older files left in DIST).
(cd "$DIST" && sha256sum -- "${built[@]}" >SHA256SUMS)
echo "done in $(($(date +%s) - start)) s:"
(cd "$DIST" && for f in "${built[@]}" SHA256SUMS; do printf '  %10d  %s\n' "$(stat -c %s -- "$f")" "$f"; done)
