"""Cluster-wide workspace defaults and how a task's own parameters win over them."""

import pytest

from ansible_collections.atelier.workspaces.plugins.module_utils.domain import cluster_settings

SETTINGS = {
    "WORKSPACE_INGRESS_NAME": "workspaces",
    "WORKSPACE_INGRESS_TYPE": "alb",
    "WORKSPACE_INGRESS_PATH_TYPE": "Prefix",
    "WORKSPACE_STORAGE_CLASS": "fast",
}


def test_settings_fill_what_the_task_leaves_out():
    params = cluster_settings.apply({"name": "ws", "ingress": None, "storage": {"size": "1Gi", "class": None}},
                                    SETTINGS)
    assert params["ingress"] == {"name": "workspaces", "type": "alb", "path_type": "Prefix"}
    assert params["storage"] == {"size": "1Gi", "class": "fast"}


def test_task_parameters_win():
    own_ingress = {"type": "istio", "name": None}
    params = cluster_settings.apply({"ingress": own_ingress, "storage": {"class": "standard"}}, SETTINGS)
    assert params["ingress"] is own_ingress
    assert params["storage"] == {"class": "standard"}


def test_a_task_naming_shared_storage_keeps_it():
    params = cluster_settings.apply({"storage": {"shared_claim": "team", "subpath_prefix": "ws"}}, SETTINGS)
    assert params["storage"] == {"shared_claim": "team", "subpath_prefix": "ws"}


def test_without_an_ingress_name_the_service_is_the_way_in():
    params = cluster_settings.apply({"ingress": None}, {"WORKSPACE_INGRESS_TYPE": "alb"})
    assert params["ingress"] is None


def test_shared_claim_setting_brings_its_prefix():
    settings = {"WORKSPACE_PVC_NAME": "team-data", "WORKSPACE_PVC_SUBPATH_PREFIX": "people"}
    params = cluster_settings.apply({"storage": {"subpath_prefix": "workspaces"}}, settings)
    assert params["storage"] == {"shared_claim": "team-data", "subpath_prefix": "people"}


def test_no_settings_leave_params_untouched():
    params = {"storage": {}}
    assert cluster_settings.apply(params, {}) is params


@pytest.mark.parametrize(
    ("settings", "start"),
    [
        ({"WORKSPACE_INGRES_NAME": "x"}, "cluster settings (cluster-settings) WORKSPACE_INGRES_NAME: unknown setting"),
        ({"WORKSPACE_INGRESS_TYPE": "traefik"}, "cluster settings (cluster-settings) WORKSPACE_INGRESS_TYPE: use one"),
        ({"WORKSPACE_INGRESS_PATH_TYPE": "Exact"}, "cluster settings (cluster-settings) WORKSPACE_INGRESS_PATH_TYPE:"),
        ({"WORKSPACE_PVC_NAME": "x"}, "cluster settings (cluster-settings) WORKSPACE_PVC_SUBPATH_PREFIX: required"),
    ],
)
def test_bad_settings_name_the_setting(settings, start):
    errors = cluster_settings.validate(settings)
    assert len(errors) == 1 and errors[0].startswith(start), errors


def test_good_settings_have_no_errors():
    assert cluster_settings.validate(SETTINGS) == []


def test_changes_set_the_given_settings_and_keep_the_others():
    changes, errors = cluster_settings.changes({"WORKSPACE_ALLOWED_HOST_PATHS": ["/srv/a", "/srv/b"],
                                                "WORKSPACE_STORAGE_CLASS": "", "WORKSPACE_INGRESS_HOST": None})
    assert errors == []
    assert changes == {"WORKSPACE_ALLOWED_HOST_PATHS": "/srv/a:/srv/b", "WORKSPACE_STORAGE_CLASS": None,
                       "WORKSPACE_INGRESS_HOST": None}
    after, errors = cluster_settings.changed(SETTINGS, changes)
    assert errors == []
    assert after == {"WORKSPACE_ALLOWED_HOST_PATHS": "/srv/a:/srv/b", "WORKSPACE_INGRESS_NAME": "workspaces",
                     "WORKSPACE_INGRESS_PATH_TYPE": "Prefix", "WORKSPACE_INGRESS_TYPE": "alb"}


@pytest.mark.parametrize(("given", "start"), [
    ({"WORKSPACE_ALLOWED_HOST_PATHS": ["/srv/a:b"]}, "settings.WORKSPACE_ALLOWED_HOST_PATHS: '/srv/a:b' holds ':'"),
    ({"WORKSPACE_STORAGE_CLASS": ["fast"]}, "settings.WORKSPACE_STORAGE_CLASS: give a string"),
    ({"WORKSPACE_INGRESS_HOST": True}, "settings.WORKSPACE_INGRESS_HOST: give a string"),
])
def test_changes_of_the_wrong_shape_name_the_setting(given, start):
    _changes, errors = cluster_settings.changes(given)
    assert len(errors) == 1 and errors[0].startswith(start), errors


def test_the_changed_document_is_checked_as_a_whole():
    _after, errors = cluster_settings.changed({"WORKSPACE_SHARED_PATH": "/srv/shared"},
                                              {"WORKSPACE_PVC_SUBPATH_PREFIX": None})
    assert errors == ["cluster settings (cluster-settings) WORKSPACE_PVC_SUBPATH_PREFIX: required with shared "
                      "storage, for example 'workspaces'"]
