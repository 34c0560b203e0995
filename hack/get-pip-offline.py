"""Offline stand-in for the pip bootstrap script ansible-test downloads.

ansible-test fetches get-pip from a host outside the package registries; this
script does the same job from what is reachable: pip from the interpreter's
bundled wheel (ensurepip), then the requested pip version from the package index.
"""

import ensurepip
import os
import subprocess
import sys

GET_PIP_ONLY_FLAGS = {"--no-setuptools", "--no-wheel"}

config_file = os.environ.get("PIP_CONFIG_FILE")
ensurepip.bootstrap()
# ensurepip turns pip's configuration off for the whole process; the install
# below needs it back (it names the certificate bundle and package index).
if config_file is None:
    os.environ.pop("PIP_CONFIG_FILE", None)
else:
    os.environ["PIP_CONFIG_FILE"] = config_file
arguments = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_FLAGS]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *arguments]))
