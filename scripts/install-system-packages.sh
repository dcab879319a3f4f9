#!/usr/bin/env bash
# Install the Debian or Ubuntu packages given as arguments that are not
# installed yet. When all are present it does nothing and needs no network.
# On other systems it prints what to install and exits with status 1.
set -euo pipefail

if [ "$#" -eq 0 ]; then
	echo "usage: $0 PACKAGE..." >&2
	exit 2
fi

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
	echo "This system has no dpkg or apt-get, so its packages cannot be installed automatically." >&2
	echo "Install the equivalents of these Debian packages with your package manager, then run make again:" >&2
	echo "  $*" >&2
	exit 1
fi

# Ubuntu 20.04 and later ship Chromium only as a snap, installed through the
# chromium-browser package.
packages=()
for package in "$@"; do
	if [ "$package" = chromium ] && grep -qs '^ID=ubuntu' /etc/os-release; then
		package=chromium-browser
	fi
	packages+=("$package")
done

missing=()
for package in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
	if [ "$status" != installed ]; then
		missing+=("$package")
	fi
done
if [ "${#missing[@]}" -eq 0 ]; then
	exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "Missing packages: ${missing[*]}" >&2
		echo "Installing them needs root and sudo is not available: run as root: apt-get install ${missing[*]}" >&2
		exit 1
	fi
	sudo=(sudo)
fi

echo "Installing missing packages: ${missing[*]}"
"${sudo[@]}" apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
