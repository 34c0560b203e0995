"""Helpers the Docker integration tests share: find, enter and remove workspace containers."""

from ansible_runner import run_module

NAME_LABEL = "workspaces.atelier.dev/name"


def container(client, name):
    """The one container of a workspace, or None."""
    found = client.containers.list(all=True, filters={"label": f"{NAME_LABEL}={name}"})
    assert len(found) <= 1
    return found[0] if found else None


def exec_as_user(workspace_container, command):
    """Output of a shell command run as the workspace user; it must succeed."""
    code, output = workspace_container.exec_run(["sh", "-c", command], user="1000")
    assert code == 0, output.decode(errors="replace")
    return output.decode().strip()


def converge_twice(args):
    """Run the workspace module twice; the second run must change nothing."""
    first = run_module("atelier.workspaces.workspace", args)
    second = run_module("atelier.workspaces.workspace", args)
    assert second["changed"] is False, second["actions"]
    assert second["actions"] == []
    return first


def remove_workspaces(client, prefix):
    """Containers, Swarm services and volumes of every workspace whose name starts with prefix."""
    def ours(labels):
        return (labels or {}).get(NAME_LABEL, "").startswith(prefix)

    for found in client.containers.list(all=True, filters={"label": NAME_LABEL}):
        if ours(found.labels):
            found.remove(force=True)
    for volume in client.volumes.list(filters={"label": NAME_LABEL}):
        if ours(volume.attrs["Labels"]):
            volume.remove(force=True)
