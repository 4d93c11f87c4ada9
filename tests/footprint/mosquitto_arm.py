# SPDX-License-Identifier: Apache-2.0
"""Debian's Mosquitto for an ARM architecture, for tests/footprint/measure.

Downloads (apt-get download, never installs) mosquitto and the library packages it
depends on for arm64 or armhf, and unpacks them with dpkg-deb -x into a scratch root.
The package index is the one toolchains/make-sysroot keeps in SYSROOT/.make-sysroot (no
`dpkg --add-architecture`, no change to the host's apt state); without it a private index
is fetched here.
"""
import os
import shutil
import subprocess

# Provided by the cross compiler's /usr/<triple>, as for Midge itself.
PROVIDED_BY_TOOLCHAIN = {"libc6", "libgcc-s1", "libstdc++6"}


class MosquittoRoot:
    def __init__(self, debarch, triple, dest, sysroot):
        self.debarch = debarch
        self.triple = triple
        self.dest = dest
        self.state = os.path.join(dest, ".apt")
        sysroot_lists = os.path.join(sysroot, ".make-sysroot", "lists")
        self.lists = sysroot_lists if os.path.isdir(sysroot_lists) else \
            os.path.join(self.state, "lists")

    @property
    def binary(self):
        return os.path.join(self.dest, "usr", "sbin", "mosquitto")

    @property
    def lib_dirs(self):
        return [os.path.join(self.dest, "usr", "lib", self.triple),
                os.path.join(self.dest, "lib", self.triple),
                f"/usr/{self.triple}/lib"]

    def _apt_opts(self):
        return ["-q", "-o", f"APT::Architecture={self.debarch}",
                "-o", f"APT::Architectures::={self.debarch}",
                "-o", f"Dir::State::Lists={self.lists}",
                "-o", f"Dir::State::status={self.state}/status",
                "-o", f"Dir::Cache={self.state}/cache",
                "-o", f"APT::Sandbox::User={_user()}"]

    def prepare(self, log):
        stamp = os.path.join(self.state, "stamp")
        if os.path.exists(stamp) and os.path.exists(self.binary):
            return
        if os.path.isdir(self.dest):
            shutil.rmtree(self.dest)
        for d in ("cache/archives/partial", "debs", "lists/partial"):
            os.makedirs(os.path.join(self.state, d), exist_ok=True)
        open(os.path.join(self.state, "status"), "w").close()
        if not os.path.isdir(self.lists) or not any(
                n.endswith("_Packages") or "_Packages." in n for n in os.listdir(self.lists)):
            self.lists = os.path.join(self.state, "lists")
            self._run(["apt-get", *self._apt_opts(), "update"], log)
        packages = self._library_closure(["mosquitto"], log)
        debs = os.path.join(self.state, "debs")
        self._run(["apt-get", *self._apt_opts(), "download", *sorted(packages)], log, cwd=debs)
        for deb in sorted(os.listdir(debs)):
            self._run(["dpkg-deb", "-x", os.path.join(debs, deb), self.dest], log)
        with open(stamp, "w") as f:
            f.write(" ".join(sorted(packages)) + "\n")

    def _library_closure(self, roots, log):
        """mosquitto plus every lib* package it needs, transitively. Non-library
        dependencies (adduser, lsb-base) carry no code the broker loads."""
        seen, todo = set(), list(roots)
        while todo:
            pkg = todo.pop()
            if pkg in seen or pkg in PROVIDED_BY_TOOLCHAIN:
                continue
            seen.add(pkg)
            out = self._run(["apt-cache", *self._apt_opts(), "depends", "--no-recommends",
                             "--no-suggests", "--no-conflicts", "--no-breaks",
                             "--no-replaces", "--no-enhances", pkg], log)
            for line in out.splitlines():
                words = line.split()
                if len(words) == 2 and words[0].lstrip("|") in ("Depends:", "PreDepends:"):
                    name = words[1].split(":")[0]
                    if name.startswith("lib") and not name.startswith("<"):
                        todo.append(name)
        return seen

    @staticmethod
    def _run(argv, log, cwd=None):
        result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
        log.write(f"$ {' '.join(argv)}\n{result.stdout}{result.stderr}")
        if result.returncode != 0:
            raise RuntimeError(f"{argv[0]} {argv[-1]} failed: {result.stderr.strip()[-400:]}")
        return result.stdout


def _user():
    import pwd
    return pwd.getpwuid(os.getuid()).pw_name
