#!/usr/bin/env bash
# sandbox/package-test.sh - install the .deb built by sandbox/package.sh on this machine (as root) and check
# it from the installed files: `man -w patctl-switchover`, the installed bash completion sourced in a fresh
# `bash -i` in tmux completing `patctl sw<TAB>`, `patctl --version`; then `dpkg -r` must remove every file,
# and the RPM (`rpm -qlp`) must hold the same files. Leaves the machine as it found it (the package
# removed, its tmux server stopped), pass or fail.
# Environment: PACKAGE_DIR [target/package].
set -euo pipefail
cd "$(dirname "$0")/.."
out=${PACKAGE_DIR:-target/package}
deb=$(ls "$out"/patctl_*.deb)
rpmfile=$(ls "$out"/patctl-*.rpm)

fail() { printf 'package-test: FAIL: %s\n' "$*" >&2; exit 1; }
ok() { printf 'package-test: ok: %s\n' "$*" >&2; }

dpkg-query -W patctl >/dev/null 2>&1 && fail "a patctl package is already installed; remove it first (dpkg -r patctl)"
sock="patctl-pkg-$$"
cleanup() {
    tmux -L "$sock" kill-server >/dev/null 2>&1 || true
    dpkg -r patctl >/dev/null 2>&1 || true
}
trap cleanup EXIT

# The same files in both packages.
deb_files=$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print substr($6, 2)}' | sort)
rpm_files=$(rpm -qlp "$rpmfile" 2>/dev/null | sort)
[[ $deb_files == "$rpm_files" ]] || fail "the .deb and the RPM differ: $(diff <(echo "$deb_files") <(echo "$rpm_files") | tr '\n' ' ')"
for f in /usr/bin/patctl /usr/share/man/man1/patctl-switchover.1.gz /usr/share/bash-completion/completions/patctl \
    /usr/share/zsh/vendor-completions/_patctl /usr/share/fish/vendor_completions.d/patctl.fish \
    /usr/share/doc/patctl/copyright /usr/share/doc/patctl/changelog.gz; do
    grep -qx "$f" <<<"$deb_files" || fail "$f is not in the packages"
done
pages=$(ls man/*.1 | wc -l)
[[ $(grep -c '^/usr/share/man/man1/.*\.1\.gz$' <<<"$deb_files") == "$pages" ]] || fail "not every man page is packaged"
dpkg-deb -f "$deb" Depends | grep >/dev/null 'libssl3' || fail ".deb does not depend on libssl3"
rpm -qp --requires "$rpmfile" 2>/dev/null | grep >/dev/null '^openssl-libs' || fail "RPM does not require openssl-libs"
ok "the .deb and the RPM hold the same $(wc -l <<<"$deb_files") files; Depends: libssl3, Requires: openssl-libs"

dpkg -i "$deb" >/dev/null
ok "dpkg -i $(basename "$deb")"
[[ $(man -w patctl-switchover) == /usr/share/man/man1/patctl-switchover.1.gz ]] || fail "man -w patctl-switchover: $(man -w patctl-switchover 2>&1)"
ok "man -w patctl-switchover"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
got=$(env -i PATH=/usr/bin:/bin patctl --version)
[[ $got == "patctl $version" ]] || fail "patctl --version: $got"
ok "patctl --version: $got"

# A fresh interactive bash (no rc files, only the installed system paths), the installed completion sourced.
tmux -L "$sock" -f /dev/null new-session -d -x 120 -y 20 \
    "env -i HOME=/tmp TERM=xterm PATH=/usr/bin:/bin PS1='pkg\$ ' bash --norc --noprofile -i"
tmux -L "$sock" send-keys 'source /usr/share/bash-completion/completions/patctl' Enter
tmux -L "$sock" send-keys 'patctl sw' Tab
line=""
for _ in $(seq 1 50); do
    line=$(tmux -L "$sock" capture-pane -p | grep 'patctl sw' | tail -1)
    [[ $line == *"patctl switchover"* ]] && break
    sleep 0.1
done
[[ $line == *"patctl switchover"* ]] || fail "patctl sw<TAB> did not complete: '$line'"
ok "bash completion: 'patctl sw<TAB>' -> '${line#*\$ }'"
tmux -L "$sock" kill-server >/dev/null 2>&1 || true

dpkg -r patctl >/dev/null
left=$(while read -r f; do if [[ -e $f ]]; then echo "$f"; fi; done <<<"$deb_files")
[[ -z $left ]] || fail "dpkg -r left: $left"
ok "dpkg -r patctl removed every file"
trap - EXIT
