"""hack/debian-mirror.sh: the Debian mirror for debootstrap comes from the machine's apt sources, or the override."""

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "hack" / "debian-mirror.sh"


def mirror(apt_etc, *args, override=None):
    env = {key: value for key, value in os.environ.items() if key != "ATELIER_DEBIAN_MIRROR"}
    env["ATELIER_APT_ETC"] = str(apt_etc)
    if override is not None:
        env["ATELIER_DEBIAN_MIRROR"] = override
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, check=False)


@pytest.fixture()
def apt_etc(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    return tmp_path


def test_one_line_sources_with_options_and_comments(apt_etc):
    (apt_etc / "sources.list").write_text(
        "# deb http://commented.invalid/debian bookworm main\n"
        "deb-src http://source.invalid/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://mirror.internal.invalid/debian/ bookworm main\n"
    )
    found = mirror(apt_etc, "bookworm")
    assert found.returncode == 0, found.stderr
    assert found.stdout == "http://mirror.internal.invalid/debian\n"


def test_deb822_sources_skip_disabled_stanzas_and_other_suites(apt_etc):
    (apt_etc / "sources.list.d" / "vendor.list").write_text("deb https://vendor.invalid/apt stable main\n")
    (apt_etc / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://disabled.invalid/debian\nSuites: bookworm\nComponents: main\nEnabled: no\n\n"
        "Types: deb deb-src\n# a comment inside the stanza\nURIs: http://security.invalid/debian-security\n"
        "Suites: bookworm-security\nComponents: main\n\n"
        "Types: deb\nURIs: http://mirror.internal.invalid/debian\nSuites: bookworm bookworm-updates\n"
        "Components: main contrib\n"
    )
    assert mirror(apt_etc, "bookworm").stdout == "http://mirror.internal.invalid/debian\n"


def test_another_suite_falls_back_to_the_debian_archive_of_the_machine(apt_etc):
    (apt_etc / "sources.list.d" / "vendor.list").write_text("deb https://vendor.invalid/apt trixie main\n")
    (apt_etc / "sources.list").write_text("deb http://mirror.internal.invalid/debian trixie main\n")
    assert mirror(apt_etc, "bookworm").stdout == "http://mirror.internal.invalid/debian\n"


def test_the_override_wins(apt_etc):
    (apt_etc / "sources.list").write_text("deb http://mirror.internal.invalid/debian bookworm main\n")
    assert mirror(apt_etc, override="file:///srv/mirror/debian").stdout == "file:///srv/mirror/debian\n"


def test_no_debian_source_names_the_override(apt_etc):
    (apt_etc / "sources.list.d" / "vendor.list").write_text("deb https://vendor.invalid/apt stable main\n")
    found = mirror(apt_etc, "bookworm")
    assert found.returncode == 1 and found.stdout == ""
    assert "set ATELIER_DEBIAN_MIRROR" in found.stderr
