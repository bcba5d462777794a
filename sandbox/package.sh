#!/usr/bin/env bash
# sandbox/package.sh - build patctl's .deb and RPM from the release binary (the hardened default build):
#   bash sandbox/package.sh            # -> target/package/patctl_<version>_<arch>.deb and patctl-<version>-1.<arch>.rpm
# Environment: PATCTL_BIN (a release binary already built; default: target/release/patctl, built with
# `cargo build --release` when missing), PACKAGE_DIR [target/package].
#
# Both packages hold the same files: /usr/bin/patctl, every man page gzipped under /usr/share/man/man1,
# the bash/zsh/fish completions in the distributions' vendor directories, the licence and the changelog
# under /usr/share/doc/patctl. Dependencies: libssl3 and libc6 (.deb), openssl-libs and glibc (RPM).
#
# Why dpkg-deb and rpmbuild rather than cargo-deb/cargo-generate-rpm (whose metadata is in Cargo.toml
# too, for those who have them): both tools are compiled from source by `cargo install`, minutes of CI on
# 2 cores for every fresh machine, while dpkg-deb is part of Debian and rpmbuild is one apt package
# (`rpm`), and the file list lives in one place, here.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -d "${HOME:-/root}/.cargo/bin" ]] && PATH="${HOME:-/root}/.cargo/bin:$PATH"

die() { printf 'package.sh: %s\n' "$*" >&2; exit 1; }

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
[[ -n $version ]] || die "no version in Cargo.toml"
out=${PACKAGE_DIR:-target/package}
bin=${PATCTL_BIN:-target/release/patctl}
if [[ -z ${PATCTL_BIN:-} && ! -x $bin ]]; then
    cargo build --release --quiet
fi
[[ -x $bin ]] || die "no binary at $bin"
command -v dpkg-deb >/dev/null || die "dpkg-deb is missing"
if ! command -v rpmbuild >/dev/null; then
    command -v apt-get >/dev/null || die "rpmbuild is missing (install rpm-build)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q rpm >/dev/null || die "cannot install rpm"
fi

rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
root="$out/root"
mkdir -p "$root/usr/bin" "$root/usr/share/man/man1" "$root/usr/share/doc/patctl" \
    "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
    "$root/usr/share/fish/vendor_completions.d"
install -m 0755 "$bin" "$root/usr/bin/patctl"
for page in man/*.1; do
    gzip -9 -n -c "$page" >"$root/usr/share/man/man1/$(basename "$page").gz"
done
install -m 0644 completions/patctl.bash "$root/usr/share/bash-completion/completions/patctl"
install -m 0644 completions/_patctl "$root/usr/share/zsh/vendor-completions/_patctl"
install -m 0644 completions/patctl.fish "$root/usr/share/fish/vendor_completions.d/patctl.fish"
install -m 0644 LICENSE "$root/usr/share/doc/patctl/copyright"
gzip -9 -n -c CHANGELOG.md >"$root/usr/share/doc/patctl/changelog.gz"
chmod 0644 "$root"/usr/share/man/man1/*.gz "$root/usr/share/doc/patctl/changelog.gz"
find "$root" -type d -exec chmod 0755 {} +

summary=$(sed -n 's/^description = "\(.*\)"/\1/p' Cargo.toml | head -1)

# .deb
arch=$(dpkg --print-architecture)
deb="$out/patctl_${version}_${arch}.deb"
mkdir -p "$root/DEBIAN"
cat >"$root/DEBIAN/control" <<CONTROL
Package: patctl
Version: $version
Architecture: $arch
Maintainer: patctl authors <patctl@localhost>
Depends: libc6 (>= 2.34), libssl3 (>= 3.0.0)
Section: database
Priority: optional
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Description: $summary
 patctl manages Patroni clusters exactly as patronictl 4.1.5 does (same commands, same output),
 starting in milliseconds, with machine output, contexts, doctor, events and Nagios checks.
CONTROL
(cd "$root" && find usr -type f -exec md5sum {} + >DEBIAN/md5sums)
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
rm -rf "$root/DEBIAN"

# RPM (built from the same tree; no automatic dependency scan, the two are named)
rpmarch=$(uname -m)
top="$out/rpmbuild"
mkdir -p "$top/SPECS"
{
    cat <<SPEC
Name: patctl
Version: $version
Release: 1
Summary: $summary
License: MIT
BuildArch: $rpmarch
AutoReqProv: no
Requires: openssl-libs >= 3.0.0
Requires: glibc >= 2.34

%description
patctl manages Patroni clusters exactly as patronictl 4.1.5 does (same commands, same output),
starting in milliseconds, with machine output, contexts, doctor, events and Nagios checks.

%install
mkdir -p %{buildroot}
cp -a $root/. %{buildroot}/

%files
%defattr(-,root,root,-)
SPEC
    (cd "$root" && find . -type f | sed 's|^\.||' | sort)
} >"$top/SPECS/patctl.spec"
rpmbuild --quiet -bb --define "_topdir $top" --define "_build_id_links none" \
    --define "__strip /bin/true" --define "__os_install_post %{nil}" \
    "$top/SPECS/patctl.spec" >/dev/null
mv "$top"/RPMS/*/patctl-*.rpm "$out/"
rm -rf "$top"
ls "$out"/*.deb "$out"/*.rpm
