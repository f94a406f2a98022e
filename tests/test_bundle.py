"""The offline bundle's pinned list of runtime requirements (ops/bundle.py), derived from pyproject.toml.

The bundle itself (download, install and serve with the network cut) is checked by ops/offline_check.sh:
minutes and ~300 MB of downloads, so not part of the test suite.
"""

from __future__ import annotations

import importlib.util
import tomllib

import pytest

from etl.db import REPO_ROOT

_spec = importlib.util.spec_from_file_location("ops_bundle", REPO_ROOT / "ops" / "bundle.py")
bundle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bundle)


def _pyproject(tmp_path, deps: list[str]):
    p = tmp_path / "pyproject.toml"
    body = ",\n".join(f"    '{d}'" for d in deps)
    p.write_text(f'[project]\nname = "x"\nversion = "1.2.3"\ndependencies = [\n{body},  # a comment\n]\n'
                 '[project.optional-dependencies]\ntest = ["pytest==9.2.0"]\n', encoding="utf-8")
    return p


def test_runtime_requirements_are_the_pinned_dependencies_without_extras(tmp_path):
    p = _pyproject(tmp_path, ["duckdb==1.5.5", "dask[dataframe]==2026.8.0", 'tomli==2.0.1 ; python_version < "3.11"'])
    assert bundle.runtime_requirements(p) == ["duckdb==1.5.5", "dask[dataframe]==2026.8.0",
                                              'tomli==2.0.1 ; python_version < "3.11"']
    assert bundle.project_version(p) == "1.2.3"


@pytest.mark.parametrize("dep", ["pandas>=2", "numpy", "scipy~=1.17"])
def test_an_unpinned_dependency_stops_the_bundle(tmp_path, dep):
    with pytest.raises(ValueError, match="not pinned"):
        bundle.runtime_requirements(_pyproject(tmp_path, ["duckdb==1.5.5", dep]))


def test_the_real_list_holds_every_runtime_dependency_and_the_spatial_extension_of_duckdbs_version():
    declared = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    req = dict(r.split(";")[0].strip().split("==") for r in bundle.runtime_requirements())
    assert set(req) == {d.split("==")[0] for d in declared}
    assert "pytest" not in req and "playwright" not in req  # test tools stay out of the bundle
    assert req["duckdb-extension-spatial"] == req["duckdb"]  # the extension comes from its wheel, never the network


def test_wheels_are_fetched_for_linux_x86_64_and_cpython_311_only():
    cmd = bundle.download_command(REPO_ROOT / "requirements.txt", REPO_ROOT / "wheels")
    assert "--only-binary=:all:" in cmd
    assert cmd[cmd.index("--python-version") + 1] == "3.11" and cmd[cmd.index("--abi") + 1] == "cp311"
    platforms = [cmd[i + 1] for i, a in enumerate(cmd) if a == "--platform"]
    assert platforms and all(p.endswith("x86_64") for p in platforms)
    assert bundle.archive_name("0.1.0") == "minqing-0.1.0-linux_x86_64-py311.tar.gz"


def test_archive_members_belong_to_root_with_plain_modes(tmp_path):
    import os
    import tarfile

    stage = tmp_path / "stage"
    (stage / "ops").mkdir(parents=True)
    (stage / "ops" / "install.sh").write_text("#!/bin/sh\n")
    os.chmod(stage / "ops" / "install.sh", 0o775)
    (stage / "README.md").write_text("x")
    os.chmod(stage / "README.md", 0o666)
    archive = bundle.write_archive(stage, tmp_path / "b.tar.gz", "minqing-1.0")
    with tarfile.open(archive) as t:
        members = {m.name: m for m in t.getmembers()}
    assert set(members) == {"minqing-1.0", "minqing-1.0/ops", "minqing-1.0/ops/install.sh", "minqing-1.0/README.md"}
    assert all((m.uid, m.gid, m.uname, m.gname) == (0, 0, "root", "root") for m in members.values())
    assert members["minqing-1.0/ops/install.sh"].mode == 0o755 and members["minqing-1.0/README.md"].mode == 0o644
    assert members["minqing-1.0/ops"].mode == 0o755


def test_the_readme_extracts_without_keeping_owners():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    extracts = [line for line in readme.splitlines() if "tar " in line and "-xzf" in line]
    assert extracts and all("--no-same-owner" in line for line in extracts)


def test_indirect_dependencies_are_constrained_to_the_tested_venv_and_pinned():
    freeze = "duckdb==1.5.5\nNumPy==2.3.1\nminqing==0.1.0\nfoo @ file:///tmp/foo.whl\n-e git+https://x#egg=y\n"
    assert bundle.freeze_constraints(freeze) == ["duckdb==1.5.5", "NumPy==2.3.1"]
    cmd = bundle.download_command(REPO_ROOT / "r.txt", REPO_ROOT / "w", REPO_ROOT / "c.txt")
    assert cmd[cmd.index("-c") + 1] == str(REPO_ROOT / "c.txt")
    out = ("Collecting numpy==2.3.1\n  Saved ./wheels/numpy-2.3.1-cp311-cp311-manylinux_2_28_x86_64.whl\n"
           "File was already downloaded /c/Typing_Extensions-4.15.0-py3-none-any.whl\nSuccessfully downloaded numpy\n")
    assert bundle.pinned_from_wheels(bundle.downloaded_wheels(out)) == ["numpy==2.3.1", "typing-extensions==4.15.0"]


def test_a_constraint_pip_cannot_meet_is_named_from_its_error():
    err = """ERROR: Cannot install libpysal because these package versions have conflicting dependencies.
The conflict is caused by:
    beautifulsoup4 4.15.0 depends on soupsieve>=1.6.1
    The user requested (constraint) soupsieve==4.1.3
    The user requested (constraint) Foo_Bar==1.0.post2
"""
    assert bundle.refused_constraints(err) == {"soupsieve==4.1.3", "Foo_Bar==1.0.post2"}
    assert bundle.refused_constraints("ERROR: Could not find a version") == set()
