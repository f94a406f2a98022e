"""Build the offline bundle: one archive with the source, data/ and the wheels of every runtime dependency.

Run on a machine with access to the package registry (`make bundle`):

    python ops/bundle.py            # -> dist/minqing-<version>-linux_x86_64-py311.tar.gz

The archive unpacks to `minqing-<version>/`, holding `git archive HEAD` (the source as committed),
`data/` (the shipped reference data, which git does not hold in full), `wheels/` (binary wheels for
Linux x86_64 and CPython 3.11 of every dependency in pyproject.toml, the build backend the editable
install needs, and the project's own wheel) and `requirements.txt` (the pinned runtime list).
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


def download_command(requirements: Path, dest: Path) -> list[str]:
    """`pip download` of binary wheels for the target platform (never an sdist: nothing is compiled there)."""
    cmd = [sys.executable, "-m", "pip", "download", "--only-binary=:all:", "--python-version", PYTHON,
           "--implementation", "cp", "--abi", f"cp{PYTHON.replace('.', '')}", "-d", str(dest), "-r", str(requirements)]
    for p in PLATFORMS:
        cmd += ["--platform", p]
    return cmd


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
        req = stage / "requirements.txt"
        req.write_text("\n".join(runtime_requirements()) + "\n", encoding="utf-8")
        wheels = wheels_cache or stage / "wheels"
        wheels.mkdir(parents=True, exist_ok=True)
        subprocess.run(download_command(req, wheels), check=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--only-binary=:all:", "-d", str(wheels),
                        *BUILD_REQUIREMENTS], check=True)
        # The product's own wheel, built from a copy (the build leaves build/ and *.egg-info behind). The
        # install (ops/install.sh) installs the source tree itself, editable: the product reads data/,
        # dashboard/app.py and .streamlit/ from beside its code.
        src = shutil.copytree(stage, Path(tmp) / "build-src")
        if wheels != stage / "wheels":
            shutil.copytree(wheels, stage / "wheels")
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(stage / "wheels"), str(src)],
                       check=True, stdout=subprocess.DEVNULL)
        sdists = [p.name for p in (stage / "wheels").iterdir() if not p.name.endswith(".whl")]
        if sdists:
            raise SystemExit(f"not wheels (they would need compiling on the target): {', '.join(sdists)}")
        out_dir.mkdir(parents=True, exist_ok=True)
        archive = out_dir / archive_name(version)
        with tarfile.open(archive, "w:gz", compresslevel=6) as t:
            t.add(stage, arcname=name)
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
