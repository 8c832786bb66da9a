"""The container executor's image, built from local material only.

rootfs.tar holds this machine's own Python interpreter and standard library
(at the same path as here), the shared libraries they and pyepics load (found
with ldd), pyepics with numpy and pyparsing, and execution/harness.py; the
Dockerfile next to it (execution/container/Dockerfile) puts it in an image
FROM scratch. Nothing is pulled from a registry.
"""
import io
import re
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
from pathlib import Path

import epics

CONTEXT = Path(__file__).resolve().parent / "container"
HARNESS_IN_IMAGE = "/opt/abf/harness.py"
MATPLOTLIB_CACHE_IN_IMAGE = "/opt/abf/matplotlib"
PYTHON_IN_IMAGE = str(Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}")
PACKAGES = ("epics", "numpy", "numpy.libs", "pyparsing")
# Parts of the standard library agent code never needs in a sandbox.
LEFT_OUT = {"test", "idlelib", "tkinter", "ensurepip", "lib2to3", "turtledemo", "site-packages", "__pycache__"}
LDD_PATH = re.compile(r"(/\S+) \(0x")


def stdlib_filter(info):
    parts = set(Path(info.name).parts)
    if parts & LEFT_OUT or Path(info.name).name.startswith("config-"):
        return None
    return info


def shared_libraries(paths):
    """Every shared library the given binaries load, as ldd resolves them."""
    found = set()
    for path in paths:
        output = subprocess.run(["ldd", str(path)], capture_output=True, text=True).stdout
        found.update(LDD_PATH.findall(output))
    return sorted(found)


def write_rootfs(path):
    stdlib = Path(sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_prefix})["stdlib"])
    site_packages = Path(epics.__file__).resolve().parent.parent
    site_in_image = stdlib / "site-packages"
    binaries = [Path(PYTHON_IN_IMAGE).resolve()]
    binaries += list((stdlib / "lib-dynload").glob("*.so"))
    binaries += list(Path(sys.base_prefix, "lib").glob("libpython*.so*"))
    for package in PACKAGES:
        binaries += list((site_packages / package).rglob("*.so*"))
    with tarfile.open(path, "w") as tar:
        tar.add(PYTHON_IN_IMAGE, arcname=PYTHON_IN_IMAGE.lstrip("/"))
        for library in Path(sys.base_prefix, "lib").glob("libpython*.so*"):
            tar.add(library, arcname=str(library).lstrip("/"))
        tar.add(stdlib, arcname=str(stdlib).lstrip("/"), filter=stdlib_filter)
        for package in PACKAGES:
            tar.add(site_packages / package, arcname=str(site_in_image / package).lstrip("/"))
        for library in shared_libraries(binaries):
            if not library.startswith(sys.base_prefix):
                tar.add(Path(library).resolve(), arcname=library.lstrip("/"))
        tar.add(Path(__file__).resolve().parent / "harness.py", arcname=HARNESS_IN_IMAGE.lstrip("/"))
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
