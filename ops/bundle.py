"""Build the offline bundle: one archive with the source, data/ and the wheels of every runtime dependency.

Run on a machine with access to the package registry (`make bundle`):

    python ops/bundle.py            # -> dist/minqing-<version>-linux_x86_64-py311.tar.gz

The archive unpacks to `minqing-<version>/`, holding `git archive HEAD` (the source as committed,
`data/` included: its reference files are tracked by git), `wheels/` (binary wheels for Linux x86_64
and CPython 3.11 of every dependency in pyproject.toml and of their dependencies, at the versions of
the venv the tests ran in (its `pip freeze`, as constraints), the build backend the editable install
needs, and the project's own wheel) and `requirements.txt` (every runtime package, pinned).
Every member belongs to root with modes 755/644, whoever built it (a root extracting it keeps owners).
On the intranet machine `./install.sh` (or `make install`) installs from `wheels/` with no network.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64", "linux_x86_64")
PYTHON = "3.11"
# What the editable install (`pip install -e .`, the Makefile's install) builds with, offline.
BUILD_REQUIREMENTS = ("setuptools==80.9.0", "wheel==0.45.1")


def runtime_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The runtime dependencies of `pyproject` (project.dependencies; not the optional ones), each
    pinned with `==`; an unpinned one is an error (the bundle must install the versions the tests ran)."""
    data = tomllib.loads(Path(pyproject).read_text(encoding="utf-8"))
    out = []
    for dep in data["project"]["dependencies"]:
        spec = dep.split(";")[0].strip()  # an environment marker stays: pip evaluates it for the target
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._\-\[\],]*==[A-Za-z0-9.+!*]+", spec):
            raise ValueError(f"{pyproject}: dependency {spec!r} is not pinned with == (the bundle needs exact versions)")
        out.append(dep.strip())
    return out


def project_version(pyproject: Path = ROOT / "pyproject.toml") -> str:
    return tomllib.loads(Path(pyproject).read_text(encoding="utf-8"))["project"]["version"]


def archive_name(version: str) -> str:
    return f"minqing-{version}-linux_x86_64-py{PYTHON.replace('.', '')}.tar.gz"


def download_command(requirements: Path, dest: Path, constraints: Path | None = None) -> list[str]:
    """`pip download` of binary wheels for the target platform (never an sdist: nothing is compiled there),
    with `constraints` (the tested venv's `pip freeze`) fixing the versions of indirect dependencies too."""
    cmd = [sys.executable, "-m", "pip", "download", "--only-binary=:all:", "--python-version", PYTHON,
           "--implementation", "cp", "--abi", f"cp{PYTHON.replace('.', '')}", "-d", str(dest), "-r", str(requirements)]
    if constraints is not None:
        cmd += ["-c", str(constraints)]
    for p in PLATFORMS:
        cmd += ["--platform", p]
    return cmd


def freeze_constraints(freeze: str, project: str = "minqing") -> list[str]:
    """The `name==version` lines of `pip freeze` output, without the project itself and without direct
    references (`name @ url`): constraints only narrow what the requirements pull in, so test-only
    packages in the list are never downloaded."""
    out = []
    for line in freeze.splitlines():
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._\-]*)==(\S+)", line.strip())
        if m and _norm(m.group(1)) != _norm(project):
            out.append(line.strip())
    return out


def downloaded_wheels(pip_output: str) -> list[str]:
    """The wheel files `pip download` saved or found already downloaded, from its output."""
    return sorted({Path(w).name for w in re.findall(r"(\S+\.whl)\b", pip_output)})


def pinned_from_wheels(wheels: list[str]) -> list[str]:
    """`name==version` of each wheel file name (`name-version-tags.whl`), sorted by name."""
    pins = {}
    for w in wheels:
        name, version = w.split("-")[:2]
        pins[_norm(name)] = f"{_norm(name)}=={version}"
    return [pins[k] for k in sorted(pins)]


def refused_constraints(pip_error: str) -> set[str]:
    """The constraints pip names as the cause of a failed resolution ("The user requested
    (constraint) soupsieve==4.1.3"): e.g. a release needing a newer Python 3.11.x than the
    oldest 3.11 the bundle is for."""
    return set(re.findall(r"The user requested \(constraint\) (\S+==\S+)", pip_error))


def _download(direct: Path, wheels: Path, constraints: Path) -> subprocess.CompletedProcess:
    """pip download with the tested versions as constraints; a constraint pip cannot meet for
    Python 3.11 on Linux (the tested venv may run a later 3.11.x) is dropped, said, and retried."""
    for _ in range(20):
        got = subprocess.run(download_command(direct, wheels, constraints), capture_output=True, text=True)
        if got.returncode == 0:
            return got
        refused = refused_constraints(got.stdout + got.stderr)  # pip explains a conflict on stdout
        if not refused:
            sys.stderr.write(got.stderr)
            raise SystemExit(f"pip download failed (exit {got.returncode})")
        sys.stderr.write(f"constraints pip cannot meet for Python {PYTHON} (left to pip): {', '.join(sorted(refused))}\n")
        kept = [c for c in constraints.read_text(encoding="utf-8").splitlines() if c.strip() not in refused]
        constraints.write_text("\n".join(kept) + "\n", encoding="utf-8")
    raise SystemExit("pip download: too many refused constraints")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def owned_by_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """A tar member owned by root with a plain mode (755 for folders and executables, 644 otherwise):
    root extracting the bundle must not hand its files to whatever uid built it."""
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.mode = 0o755 if info.isdir() or info.mode & 0o111 else 0o644
    return info


def write_archive(stage: Path, archive: Path, arcname: str) -> Path:
    with tarfile.open(archive, "w:gz", compresslevel=6) as t:
        t.add(stage, arcname=arcname, filter=owned_by_root)
    return archive


def build(out_dir: Path, *, wheels_cache: Path | None = None) -> Path:
    version = project_version()
    name = f"minqing-{version}"
    with tempfile.TemporaryDirectory(prefix="minqing-bundle-") as tmp:
        stage = Path(tmp) / name
        stage.mkdir()
        git = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", "HEAD"], check=True, capture_output=True)
        tar_path = Path(tmp) / "src.tar"
        tar_path.write_bytes(git.stdout)
        with tarfile.open(tar_path) as t:
            t.extractall(stage, filter="data")
        direct = Path(tmp) / "direct.txt"
        direct.write_text("\n".join(runtime_requirements()) + "\n", encoding="utf-8")
        freeze = subprocess.run([sys.executable, "-m", "pip", "freeze", "--exclude-editable"], check=True,
                                capture_output=True, text=True).stdout
        constraints = Path(tmp) / "constraints.txt"
        constraints.write_text("\n".join(freeze_constraints(freeze)) + "\n", encoding="utf-8")
        wheels = wheels_cache or stage / "wheels"
        wheels.mkdir(parents=True, exist_ok=True)
        got = _download(direct, wheels, constraints)
        sys.stdout.write(got.stdout)
        runtime = downloaded_wheels(got.stdout)
        pinned = pinned_from_wheels(runtime)
        missing = {_norm(r.split("==")[0].split("[")[0]) for r in runtime_requirements() if ";" not in r} - {p.split("==")[0] for p in pinned}
        if missing:
            raise SystemExit(f"pip download's output does not name wheels of: {', '.join(sorted(missing))}")
        # Every runtime package pinned, indirect ones included: what install.sh installs.
        (stage / "requirements.txt").write_text("\n".join(pinned) + "\n", encoding="utf-8")
        got = subprocess.run([sys.executable, "-m", "pip", "download", "--only-binary=:all:", "-d", str(wheels),
                              *BUILD_REQUIREMENTS], check=True, capture_output=True, text=True)
        runtime += downloaded_wheels(got.stdout)
        # The product's own wheel, built from a copy (the build leaves build/ and *.egg-info behind). The
        # install (ops/install.sh) installs the source tree itself, editable: the product reads data/,
        # dashboard/app.py and .streamlit/ from beside its code.
        src = shutil.copytree(stage, Path(tmp) / "build-src")
        if wheels != stage / "wheels":  # this build's wheels only, not whatever else the cache holds
            (stage / "wheels").mkdir()
            for w in runtime:
                shutil.copy2(wheels / w, stage / "wheels" / w)
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(stage / "wheels"), str(src)],
                       check=True, stdout=subprocess.DEVNULL)
        sdists = [p.name for p in (stage / "wheels").iterdir() if not p.name.endswith(".whl")]
        if sdists:
            raise SystemExit(f"not wheels (they would need compiling on the target): {', '.join(sdists)}")
        out_dir.mkdir(parents=True, exist_ok=True)
        archive = out_dir / archive_name(version)
        write_archive(stage, archive, name)
    return archive


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--out", type=Path, default=ROOT / "dist", help="folder of the archive (default dist/)")
    ap.add_argument("--wheels-cache", type=Path, help="keep downloaded wheels here between builds")
    ap.add_argument("--print-requirements", action="store_true", help="print the runtime requirements and stop")
    args = ap.parse_args()
    if args.print_requirements:
        print("\n".join(runtime_requirements()))
        return
    archive = build(args.out, wheels_cache=args.wheels_cache)
    print(f"{archive} ({archive.stat().st_size / 1e6:.0f} MB)")


if __name__ == "__main__":
    main()
