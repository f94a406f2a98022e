#!/bin/sh
# Install 民情地图 from the offline bundle, with no network: run it in the unpacked bundle
# (the folder holding wheels/ and requirements.txt). Creates .venv with Python 3.11 and installs
# every dependency and the product itself from wheels/ only; `make run` then works as it is.
set -eu
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3 || true)}
if [ -z "$PYTHON" ] || ! "$PYTHON" -c 'import sys, venv, ensurepip; assert sys.version_info[:2] == (3, 11)' 2>/dev/null; then
    echo "需要 Python 3.11 (含 venv): 请先安装 python3.11 与 python3.11-venv, 或用 PYTHON=/路径/python3.11 指定" >&2
    exit 1
fi
if [ ! -d wheels ] || [ ! -f requirements.txt ]; then
    echo "这里没有 wheels/ 与 requirements.txt: 请在解压后的离线安装包目录中运行 (安装包由 make bundle 生成)" >&2
    exit 1
fi
test -x .venv/bin/python || "$PYTHON" -m venv .venv
PIP=".venv/bin/python -m pip install --quiet --disable-pip-version-check --no-index --find-links wheels"
$PIP -r requirements.txt
$PIP --no-deps -e .   # the source tree itself (its data/ and dashboard/ stay where they are)
touch .venv/.installed  # what the Makefile's install target checks: `make run` installs nothing more
.venv/bin/minqing --help >/dev/null
echo "已离线安装到 $(pwd)/.venv。启动演示: make run; 启动服务见 README「Running at an office」"
