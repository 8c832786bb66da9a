"""The container executor's image, built from local material only.

rootfs.tar holds this machine's own Python interpreter and standard library
(at the same path as here, with their compiled bytecode), the installed
distributions the kernel and the code need (DISTRIBUTIONS and everything they
require, file by file as each distribution lists them), the shared libraries
all of these load (found with ldd), matplotlib's font list built for the
image, and execution/harness.py; the Dockerfile next to it
(execution/container/Dockerfile) puts it in an image FROM scratch. Nothing is
pulled from a registry.
"""
import importlib.metadata
import io
import json
import os
import re
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
from pathlib import Path

from packaging.requirements import Requirement

CONTEXT = Path(__file__).resolve().parent / "container"
HARNESS_IN_IMAGE = "/opt/abf/harness.py"
MATPLOTLIB_CACHE_IN_IMAGE = "/opt/abf/matplotlib"
PYTHON_IN_IMAGE = str(Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}")
# The kernel and what agent code commonly uses, with everything they require.
DISTRIBUTIONS = ("ipykernel", "pyepics", "caproto", "matplotlib", "numpy")
# Parts of the standard library agent code never needs in a sandbox.
LEFT_OUT = {"test", "idlelib", "tkinter", "ensurepip", "lib2to3", "turtledemo", "site-packages"}
LDD_PATH = re.compile(r"(/\S+) \(0x")


def stdlib_filter(info):
    path = Path(info.name)
    if set(path.parts) & LEFT_OUT or path.name.startswith("config-") or ".opt-" in path.name:
        return None
    return info


def distribution_closure(names):
    """The installed distributions `names` need, with what they require
    (extras and other platforms' requirements left out)."""
    found, todo = {}, list(names)
    while todo:
        dist = importlib.metadata.distribution(todo.pop())
        key = dist.metadata["Name"].lower().replace("_", "-")
        if key in found:
            continue
        found[key] = dist
        for requirement in map(Requirement, dist.requires or []):
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return list(found.values())


def distribution_files(dists):
    """Every installed file of the distributions, as absolute paths."""
    files = set()
    for dist in dists:
        for file in dist.files or []:
            path = Path(dist.locate_file(file)).resolve()
            if path.is_file() and ".opt-" not in path.name:
                files.add(path)
    return sorted(files)


def font_list(site_packages):
    """matplotlib's font list for the image: built here, keeping only the
    fonts matplotlib ships (stored relative to its data folder), so the
    kernel does not build it on every start."""
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [sys.executable, "-I", "-c", "import matplotlib.font_manager"],
            env={**os.environ, "MPLCONFIGDIR": folder}, check=True, capture_output=True,
        )
        (path,) = Path(folder).glob("fontlist-*.json")
        fonts = json.loads(path.read_text())
    for key in ("ttflist", "afmlist"):
        fonts[key] = [entry for entry in fonts[key] if not os.path.isabs(entry["fname"])]
    return path.name, json.dumps(fonts)


def shared_libraries(paths):
    """Every shared library the given binaries load, as ldd resolves them."""
    found = set()
    for path in paths:
        output = subprocess.run(["ldd", str(path)], capture_output=True, text=True).stdout
        found.update(LDD_PATH.findall(output))
    return sorted(found)


def write_rootfs(path):
    stdlib = Path(sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_prefix})["stdlib"])
    site_packages = Path(sysconfig.get_paths()["purelib"]).resolve()
    site_in_image = stdlib / "site-packages"
    files = distribution_files(distribution_closure(DISTRIBUTIONS))
    binaries = [Path(PYTHON_IN_IMAGE).resolve()]
    binaries += list((stdlib / "lib-dynload").glob("*.so"))
    binaries += list(Path(sys.base_prefix, "lib").glob("libpython*.so*"))
    binaries += [f for f in files if ".so" in f.suffixes or f.suffix == ".so"]
    with tarfile.open(path, "w") as tar:
        tar.add(PYTHON_IN_IMAGE, arcname=PYTHON_IN_IMAGE.lstrip("/"))
        for library in Path(sys.base_prefix, "lib").glob("libpython*.so*"):
            tar.add(library, arcname=str(library).lstrip("/"))
        tar.add(stdlib, arcname=str(stdlib).lstrip("/"), filter=stdlib_filter)
        for file in files:
            if file.is_relative_to(site_packages):
                tar.add(file, arcname=str(site_in_image / file.relative_to(site_packages)).lstrip("/"))
        for library in shared_libraries(binaries):
            if not library.startswith(sys.base_prefix) and not Path(library).resolve().is_relative_to(site_packages):
                tar.add(Path(library).resolve(), arcname=library.lstrip("/"))
        tar.add(Path(__file__).resolve().parent / "harness.py", arcname=HARNESS_IN_IMAGE.lstrip("/"))
        name, fonts = font_list(site_packages)
        add_text(tar, f"{MATPLOTLIB_CACHE_IN_IMAGE.lstrip('/')}/{name}", fonts)
        add_text(tar, "etc/passwd", "root:x:0:0::/root:/nonexistent\nnobody:x:65534:65534::/tmp:/nonexistent\n")
        add_text(tar, "etc/group", "root:x:0:\nnogroup:x:65534:\n")
        tmp = tarfile.TarInfo("tmp")
        tmp.type, tmp.mode = tarfile.DIRTYPE, 0o1777
        tar.addfile(tmp)


def add_text(tar, name, text):
    data = text.encode()
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    tar.addfile(info, io.BytesIO(data))


def build_image(client, tag):
    """Build the image with the docker SDK; returns the image."""
    with tempfile.TemporaryDirectory(prefix="abf-image-") as folder:
        context = Path(folder)
        (context / "Dockerfile").write_text((CONTEXT / "Dockerfile").read_text())
        write_rootfs(context / "rootfs.tar")
        image, _ = client.images.build(path=str(context), tag=tag, rm=True, forcerm=True, pull=False)
    return image
