# SPDX-License-Identifier: Apache-2.0
"""Shared-library accounting for tests/footprint/measure.

A dynamically linked broker is only part of what a board has to carry: this resolves the
DT_NEEDED entries of an executable (directly, and transitively) in the library
directories of its target and adds up the sizes of the libraries that are not part of
the C library itself. libstdc++ and libgcc_s count: a C program such as Mosquitto does
not need them, so leaving them out would flatter a C++ broker.
"""
import os
import subprocess

# Parts of glibc: every Linux board has them whatever broker it runs.
GLIBC = {"libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1",
         "libresolv.so.2", "libutil.so.1", "libanl.so.1", "libcrypt.so.1"}


def is_glibc(name):
    return name in GLIBC or name.startswith("ld-linux")


def needed(path):
    """The DT_NEEDED names of an ELF file (readelf reads every architecture)."""
    out = subprocess.run(["readelf", "-d", path], check=True, capture_output=True,
                         text=True).stdout
    names = []
    for line in out.splitlines():
        if "(NEEDED)" in line:
            names.append(line.split("[", 1)[1].rstrip("]"))
    return names


def resolve(name, lib_dirs):
    for d in lib_dirs:
        candidate = os.path.join(d, name)
        if os.path.exists(candidate):
            return os.path.realpath(candidate)
    return None


class LibraryReport:
    """Direct and transitive non-glibc libraries of one executable, with sizes."""

    def __init__(self, executable, lib_dirs):
        self.executable = executable
        self.direct = [n for n in needed(executable) if not is_glibc(n)]
        self.sizes = {}        # name -> bytes of the resolved file
        self.missing = []
        todo = list(self.direct)
        while todo:
            name = todo.pop()
            if name in self.sizes or name in self.missing:
                continue
            path = resolve(name, lib_dirs)
            if path is None:
                self.missing.append(name)
                continue
            self.sizes[name] = os.path.getsize(path)
            todo.extend(n for n in needed(path) if not is_glibc(n))

    def direct_bytes(self):
        return sum(self.sizes.get(n, 0) for n in self.direct)

    def closure_bytes(self):
        return sum(self.sizes.values())

    def to_json(self):
        return {"direct": self.direct, "sizes": self.sizes, "missing": self.missing,
                "direct_bytes": self.direct_bytes(), "closure_bytes": self.closure_bytes()}
