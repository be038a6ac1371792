#!/usr/bin/env bash
# Kept for .ci/run's existing call: the arm64 leg of scripts/ci/linux-qemu.sh, which also runs
# armv7 (`all`) and documents what is left out under QEMU and why.
exec bash "$(dirname "$0")/ci/linux-qemu.sh" arm64
