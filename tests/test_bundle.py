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
