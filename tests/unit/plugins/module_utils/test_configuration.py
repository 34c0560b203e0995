"""Omitted keeps, given replaces, empty resets: the configuration record (pure)."""

from ansible_collections.atelier.workspaces.plugins.module_utils.domain import configuration

STORED = {"image": "my/ide:1", "env": {"A": "1"}, "resources": {"cpu": "500m", "memory": "1Gi"},
          "secrets": [{"key": "token", "env_var": "TOKEN", "own": True},
                      {"key": "warehouse", "env_var": None, "own": False}]}


def test_the_record_keeps_no_secret_value():
    stored = configuration.record({"image": "x", "secrets": [{"key": "k", "env_var": None, "value": "s3cret"}],
                                   "state": "stopped", "wait": True})
    assert stored == {"image": "x", "secrets": [{"key": "k", "env_var": None, "own": True}]}
    assert "s3cret" not in configuration.encode(stored)


def test_omitted_keeps_given_replaces_empty_resets():
    merged = configuration.merge({"name": "ws", "env": {"B": "2"}, "image": "", "state": "stopped"}, STORED,
                                 {"TOKEN": "s3cret", "A": "1"})
    assert merged["env"] == {"B": "2"} and merged["image"] is None and merged["resources"] == STORED["resources"]
    assert merged["secrets"] == [{"key": "token", "env_var": "TOKEN", "value": "s3cret"},
                                 {"key": "warehouse", "env_var": None, "value": None}]
    assert configuration.record(merged)["env"] == {"B": "2"} and "image" not in configuration.record(merged)


def test_a_workspace_without_a_record_takes_the_task_as_it_is():
    assert configuration.merge({"name": "ws", "state": "stopped"}, None, {}) == {"name": "ws", "state": "stopped"}


def test_a_new_lifecycle_config_drops_the_recorded_controller_files():
    stored = {"lifecycle_config": {"post_start": {"hook_path": "hook.sh"}}, "_post_start_hook": "echo hi"}
    assert "_post_start_hook" not in configuration.merge({"lifecycle_config": {}}, stored, {})
    assert configuration.merge({}, stored, {})["_post_start_hook"] == "echo hi"


def test_live_limits_replace_the_recorded_ones_and_keep_the_spelling_that_agrees():
    stored = {"resources": {"cpu": "0.5", "memory": "1Gi", "gpu": 1}}
    assert configuration.with_limits(stored, 500, 1024**3) == stored
    assert configuration.with_limits(stored, 2000, None) == {"resources": {"cpu": "2", "gpu": 1}}


def test_info_shows_option_names_only():
    assert configuration.shown(STORED)["secrets"] == [{"key": "token", "env_var": "TOKEN"},
                                                      {"key": "warehouse", "env_var": None}]
    assert configuration.shown({"_post_start_hook": "x", "image": "i"}) == {"image": "i"}


def test_the_list_columns_and_table():
    from ansible_collections.atelier.workspaces.plugins.module_utils.domain import columns

    view = {"name": "ws", "namespace": None, "status": "Running", "url": "http://127.0.0.1:1/",
            "configuration": {"resources": {"cpu": "500m", "memory": "1Gi"}}, "max_idle_seconds": 1800}
    view.update(columns.columns(view))
    assert (view["cpu"], view["memory"], view["gpu"], view["ttl_seconds"]) == ("500m", "1Gi", 0, 1800)
    header, row = columns.table([view])
    assert header.split() == ["NAME", "NAMESPACE", "STATUS", "CPU", "MEMORY", "GPU", "ACCELERATOR", "TTL_SECONDS",
                              "URL"]
    assert row.split() == ["ws", "-", "Running", "500m", "1Gi", "0", "-", "1800", "http://127.0.0.1:1/"]


def test_a_dict_of_sub_options_left_out_is_empty_and_recorded_without_them():
    ingress = {"type": None, "name": None, "host": None, "path_prefix": None}
    assert configuration.merge({"ingress": ingress}, {"ingress": {"host": "h"}}, {})["ingress"] is None
    assert configuration.record({"resources": {"cpu": "1", "gpu": None}}) == {"resources": {"cpu": "1"}}
