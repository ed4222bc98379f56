"""A throwaway PostgreSQL server for the test session, started from the machine's server programs."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


def find_bindir() -> Path | None:
    """The folder holding initdb and pg_ctl: on the PATH, or Debian's /usr/lib/postgresql/N/bin."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(os.path.realpath(on_path)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]), reverse=True)
    return Path(versions[0]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresServer:
    bindir: Path
    datadir: Path
    port: int
    run_as: str | None

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://harmony@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        subprocess.run(command, check=True, capture_output=True, text=True)

    @classmethod
    def start(cls, bindir: Path) -> "PostgresServer":
        datadir = Path(tempfile.mkdtemp(prefix="harmony-test-pg-"))
        run_as = None
        if os.geteuid() == 0:  # initdb refuses to run as root
            run_as = "postgres" if _user_exists("postgres") else "nobody"
            entry = pwd.getpwnam(run_as)
            os.chown(datadir, entry.pw_uid, entry.pw_gid)
        server = cls(bindir, datadir, _free_port(), run_as)
        server._run("initdb", "-D", str(datadir / "data"), "-U", "harmony", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = (
            f"-p {server.port} -k {datadir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        server._run("pg_ctl", "-D", str(datadir / "data"), "-o", options, "-l", str(datadir / "server.log"), "-w", "start")
        return server

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"postgresql://harmony@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.datadir / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.datadir, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False
