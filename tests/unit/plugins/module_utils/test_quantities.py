import pytest

from ansible_collections.atelier.workspaces.plugins.module_utils.common import quantity as quantities


@pytest.mark.parametrize(
    ("value", "millicores"),
    [("2", 2000), ("0.5", 500), ("500m", 500), ("1m", 1), (".25", 250), (3, 3000)],
)
def test_cpu_quantities(value, millicores):
    assert quantities.parse_cpu(value, "resources.cpu") == (millicores, None)


@pytest.mark.parametrize("value", ["", "two", "-1", "0", "0.0001", "1.5m", "2 cores", "1e3"])
def test_bad_cpu_quantities_name_the_field(value):
    millicores, error = quantities.parse_cpu(value, "resources.cpu")
    assert millicores is None
    assert error.startswith("resources.cpu: ")


@pytest.mark.parametrize(
    ("value", "size"),
    [("512Mi", 512 * 1024**2), ("4Gi", 4 * 1024**3), ("1G", 10**9), ("1.5Gi", 3 * 512 * 1024**2), ("8388608", 8388608)],
)
def test_memory_quantities(value, size):
    assert quantities.parse_memory(value, "resources.memory") == (size, None)


@pytest.mark.parametrize("value", ["lots", "4GB", "-1Gi", "1Mi", "Gi", "4 Gi"])
def test_bad_memory_quantities_name_the_field(value):
    size, error = quantities.parse_memory(value, "resources.memory")
    assert size is None
    assert error.startswith("resources.memory: ")
