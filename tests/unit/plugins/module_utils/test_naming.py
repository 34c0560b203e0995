import pytest

from ansible_collections.atelier.workspaces.plugins.module_utils.common import naming


@pytest.mark.parametrize("name", ["a", "alice-dev", "ws1", "a" * naming.MAX_NAME_LENGTH])
def test_accepts_valid_names(name):
    assert naming.validate_workspace_name(name) is None


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "needs a name"),
        (None, "needs a name"),
        ("Alice", "lower-case"),
        ("1abc", "starting with a letter"),
        ("abc-", "ending with a letter or digit"),
        ("a_b", "lower-case letters, digits and '-'"),
        ("a.b", "lower-case letters, digits and '-'"),
        ("a" * (naming.MAX_NAME_LENGTH + 1), f"at most {naming.MAX_NAME_LENGTH}"),
    ],
)
def test_rejects_bad_names_naming_the_field(name, fragment):
    message = naming.validate_workspace_name(name)
    assert message.startswith("name: ")
    assert fragment in message


def test_longest_name_keeps_revision_hash_label_within_limit():
    longest = "a" * naming.MAX_NAME_LENGTH
    revision_label = f"{longest}-{'x' * 10}"
    assert len(revision_label) == naming.LABEL_VALUE_MAX
    assert all(len(naming.object_name(longest, s)) <= 63 for s in naming.OBJECT_SUFFIXES)


def test_labels_and_selectors_agree():
    labels = naming.owned_labels("alice")
    assert labels == {
        "app.kubernetes.io/managed-by": "atelier.workspaces",
        "workspaces.atelier.dev/name": "alice",
    }
    assert naming.label_selector("alice") == ",".join(f"{k}={v}" for k, v in labels.items())
    assert naming.label_selector() == "app.kubernetes.io/managed-by=atelier.workspaces"


def test_object_name_rejects_unknown_suffix():
    assert naming.object_name("alice", "data") == "alice-data"
    with pytest.raises(ValueError):
        naming.object_name("alice", "bogus")
