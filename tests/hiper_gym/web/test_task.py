"""Web task specs: seeded instances, registration, YAML specs, the built-in names."""

from __future__ import annotations

import pytest

from hiper_gym.web.task import BUILTIN_TASKS, WebTask, load_web_task, register_web_task, web_task, web_task_names

PAGES = {"/": "<p>Hi {{who}}</p>"}


def test_instances_are_seeded_by_task_split_and_index():
    task = WebTask(
        name="t-seeded", pages=PAGES, instruction="Greet {{who}}", params={"who": list("abcdefgh")}, success={}
    )
    draws = [task.draw("train", i) for i in range(20)]
    assert draws == [task.draw("train", i) for i in range(20)]  # the same in every process: string seeds
    assert len({d["who"] for d in draws}) > 1
    assert task.instruction_text(draws[0]) == f"Greet {draws[0]['who']}"
    with pytest.raises(IndexError):
        task.draw("test", 100)
    with pytest.raises(KeyError):
        task.count("dev")


def test_a_spec_needs_exactly_one_site_and_a_step_limit():
    with pytest.raises(ValueError, match="exactly one"):
        WebTask(name="bad", instruction="x", success={})
    with pytest.raises(ValueError, match="max_steps"):
        WebTask(name="bad", pages=PAGES, instruction="x", success={}, max_steps=0)
    with pytest.raises(ValueError, match="unknown check keys"):
        WebTask(name="bad", pages=PAGES, instruction="x", success={"nope": 1})


def test_register_refuses_a_taken_name_unless_replacing():
    name = register_web_task(name="t-unique", pages=PAGES, instruction="x", success={})
    assert web_task(name).name == "t-unique" and "t-unique" in web_task_names()
    with pytest.raises(ValueError, match="already registered"):
        register_web_task(name="t-unique", pages=PAGES, instruction="y", success={})
    with pytest.raises(ValueError, match="already registered"):
        register_web_task(name="webshop", pages=PAGES, instruction="y", success={})
    register_web_task(name="t-unique", pages=PAGES, instruction="y", success={}, replace=True)
    assert web_task("t-unique").instruction == "y"
    with pytest.raises(KeyError, match="known"):
        web_task("no-such-task")


def test_yaml_spec_loads_pages_from_files_and_checks(tmp_path):
    (tmp_path / "home.html").write_text("<h1>{{shop}}</h1>")
    (tmp_path / "task.yaml").write_text(
        "name: t-yaml\n"
        "instruction: Subscribe {{email}}\n"
        "params: {email: [a@x.org, b@x.org], shop: [Acme]}\n"
        "pages:\n  /: {file: home.html}\n  /thanks: '<p>Thanks</p>'\n"
        "milestones:\n  - {name: opened_thanks, check: {url: /thanks}}\n"
        "success: {form: {path: /, fields: {email: '{{email}}'}}}\n"
        "max_steps: 7\n"
        "splits: {train: 5, test: 2}\n"
    )
    task = load_web_task(tmp_path / "task.yaml")
    assert task.pages == {"/": "<h1>{{shop}}</h1>", "/thanks": "<p>Thanks</p>"}
    assert (task.max_steps, task.count("test"), [m for m, _ in task.milestone_checks({})]) == (7, 2, ["opened_thanks"])
    with pytest.raises(ValueError, match="unknown keys"):
        load_web_task({"name": "x", "instruction": "y", "success": {}, "pagez": {}})


def test_six_tasks_are_built_in():
    assert set(BUILTIN_TASKS) == {
        "webshop", "account-settings", "store-checkout", "signup-form", "clinic-booking", "wiki-lookup"
    }  # fmt: skip
    assert set(BUILTIN_TASKS) <= set(web_task_names())
