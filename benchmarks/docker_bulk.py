"""Bulk converge on the local Docker engine: atelier.workspaces.workspace against community.docker.docker_container.

Both sides create COUNT workspace containers (same image, command, env, volume,
published port, limits and security options) and are then run again
unchanged. Wall time is measured around ansible-playbook; the engine's own
event stream counts what each run changed.

    .venv/bin/python benchmarks/docker_bulk.py [--count 50]
"""

import argparse
import tempfile
import threading
import time
import uuid
from pathlib import Path

import docker

from playbooks import run_playbook, write_play

IMAGE = "atelier/busybox:local"
CHANGE_EVENTS = ("create", "start", "stop", "die", "destroy", "update", "kill", "rename")


def names(prefix, count):
    return [f"{prefix}-{index:03d}" for index in range(count)]


def our_playbook(directory, prefix, count):
    return write_play(directory / "ours.yml", [{"name": "Converge", "atelier.workspaces.workspace": {
        "backend": "docker", "image": IMAGE, "command": ["sleep", "infinity"], "user_code_path": "/data",
        "resources": {"cpu": "250m", "memory": "64Mi"}, "wait": False,
        "workspaces": [{"name": name, "env": {"WORKSPACE": name}} for name in names(prefix, count)],
    }}])


def peer_playbook(directory, prefix, count):
    return write_play(directory / "peer.yml", [{
        "name": "Converge",
        "community.docker.docker_container": {
            "name": "atelier-{{ item }}", "image": IMAGE, "command": ["sleep", "infinity"], "user": "1000",
            "env": {"WORKSPACE": "{{ item }}", "USER_CODE_PATH": "/data"}, "working_dir": "/data",
            "volumes": ["atelier-{{ item }}-data:/data"], "published_ports": ["127.0.0.1::8888"],
            "cpus": 0.25, "memory": "64m", "security_opts": ["no-new-privileges"], "cap_drop": ["ALL"],
            "labels": {"workspaces.atelier.dev/name": "{{ item }}"}, "restart_policy": "unless-stopped",
            "state": "started",
        },
        "loop": names(prefix, count),
    }])


class ChangeCounter:
    """Counts the engine's container changes for one name prefix, live: the engine keeps only a short history."""

    def __init__(self, client, prefix):
        self.prefix, self.count = prefix, 0
        self.stream = client.events(decode=True, filters={"type": "container"})
        self.thread = threading.Thread(target=self._consume, daemon=True)
        self.thread.start()

    def _consume(self):
        try:
            for event in self.stream:
                name = event.get("Actor", {}).get("Attributes", {}).get("name", "")
                self.count += event.get("Action") in CHANGE_EVENTS and self.prefix in name
        except Exception:  # the stream is closed by stop()
            pass

    def stop(self):
        time.sleep(0.5)  # events of the last calls are still on their way
        self.stream.close()
        return self.count


def measure(client, label, playbook, prefix):
    counter = ChangeCounter(client, prefix)
    first = run_playbook(playbook)
    converge_changes = counter.stop()
    counter = ChangeCounter(client, prefix)
    second = run_playbook(playbook)
    rerun_changes = counter.stop()
    print(f"{label:34} converge {first:7.1f} s {converge_changes:5d} engine changes"
          f" | re-run {second:6.1f} s {rerun_changes:4d} engine changes")
    return first, second


def cleanup(client, *prefixes):
    for container in client.containers.list(all=True):
        if container.name.startswith(tuple(f"atelier-{p}" for p in prefixes)):
            container.remove(force=True)
    for volume in client.volumes.list():
        if volume.name.startswith(tuple(f"atelier-{p}" for p in prefixes)):
            volume.remove(force=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=50)
    count = parser.parse_args().count
    client = docker.from_env()
    ours_prefix, peer_prefix = f"bo{uuid.uuid4().hex[:4]}", f"bp{uuid.uuid4().hex[:4]}"
    try:
        with tempfile.TemporaryDirectory() as scratch:
            directory = Path(scratch)
            print(f"{count} workspace containers on the local Docker engine")
            ours = measure(client, "atelier.workspaces (bulk)", our_playbook(directory, ours_prefix, count),
                           ours_prefix)
            peer = measure(client, "community.docker (loop)", peer_playbook(directory, peer_prefix, count),
                           peer_prefix)
        print(f"converge speed-up: {peer[0] / ours[0]:.1f}x   re-run speed-up: {peer[1] / ours[1]:.1f}x")
    finally:
        cleanup(client, ours_prefix, peer_prefix)


if __name__ == "__main__":
    main()
