#!/bin/sh
# Entrypoint of the dockerd stand-in (tests/swarm_nodes.py runs it). Where `docker run --privileged` cannot be used
# (a capability missing from the machine's bounding set makes runc refuse it), the container gets every other
# capability, no seccomp and unmasked /proc paths instead, but /sys and the cgroup hierarchies stay mounted
# read-only: remount them read-write, as --privileged would have mounted them, so that this dockerd can make the
# cgroups of its containers. (A no-op under --privileged. Only cgroup v1 has been tried.)
set -eu
mount -o remount,rw /sys
awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) ~ /^cgroup2?$/) print $5; break } }' \
	/proc/self/mountinfo | while read -r mountpoint; do
	mount -o remount,rw,bind "$mountpoint"
done
exec dockerd "$@"
