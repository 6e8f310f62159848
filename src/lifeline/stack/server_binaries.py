"""Where this machine's PostgreSQL, MariaDB and Redis server programs are.

Lifeline installs no servers: it runs the ones the operating system provides
(Debian packages ``postgresql``, ``mariadb-server`` and ``redis-server``) with
data directories of its own. Each finder searches ``PATH`` and the standard
install locations and raises :class:`~lifeline.errors.ComponentError` naming
the package to install when the program is missing.

``python -m lifeline.stack.server_binaries`` prints the missing Debian
packages, one per line (nothing when all are present), for bootstrap scripts.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lifeline.errors import ComponentError

POSTGRES_PACKAGE = "postgresql"
MARIADB_PACKAGE = "mariadb-server"
REDIS_PACKAGE = "redis-server"
_POSTGRES, _MARIADB, _REDIS = "postgres", "mariadb", "redis"

_SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin")
_MARIADB_DIRS = (*_SBIN_DIRS, "/usr/libexec", "/usr/local/mysql/bin")
_INSTALL_DB_DIRS = (*_SBIN_DIRS, "/usr/local/mysql/scripts")
_PG_GLOBS = ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin")
_PG_FIXED_DIRS = ("/usr/local/pgsql/bin",)


@dataclass(frozen=True, slots=True)
class PostgresBinaries:
    """One PostgreSQL installation: its server, ``initdb`` and major version."""

    postgres: Path
    initdb: Path
    major: int


@dataclass(frozen=True, slots=True)
class MariaDBBinaries:
    """The MariaDB server and the script that initialises a data directory."""

    server: Path
    install_db: Path


def postgres_binaries(major: int | None = None) -> PostgresBinaries:
    """Find the newest installed PostgreSQL, or the one of major ``major``.

    A data directory only runs under the major version that created it, so
    callers pass its ``PG_VERSION`` when there is one.
    """
    found = _postgres_installations()
    if major is not None:
        found = [item for item in found if item.major == major]
    if found:
        return max(found, key=lambda item: item.major)
    wanted = "PostgreSQL" if major is None else f"PostgreSQL {major}"
    reason = (
        f"no {wanted} server (postgres and initdb) found; "
        f"install the Debian package {_package(POSTGRES_PACKAGE, major)}"
    )
    raise ComponentError(_POSTGRES, reason)


def mariadb_binaries() -> MariaDBBinaries:
    """Find the ``mariadbd`` server and ``mariadb-install-db``."""
    server = _find(("mariadbd",), _MARIADB_DIRS)
    install_db = _find(("mariadb-install-db", "mysql_install_db"), _INSTALL_DB_DIRS)
    if server is None or install_db is None:
        reason = (
            "mariadbd or mariadb-install-db not found; "
            f"install the Debian package {MARIADB_PACKAGE}"
        )
        raise ComponentError(_MARIADB, reason)
    return MariaDBBinaries(server, install_db)


def redis_server_binary() -> Path:
    """Find the ``redis-server`` program."""
    found = _find(("redis-server",), _SBIN_DIRS)
    if found is None:
        reason = f"redis-server not found; install the Debian package {REDIS_PACKAGE}"
        raise ComponentError(_REDIS, reason)
    return found


def missing_debian_packages() -> list[str]:
    """Debian packages whose server programs this machine lacks, in stack order."""
    missing = []
    finders = (
        (POSTGRES_PACKAGE, postgres_binaries),
        (MARIADB_PACKAGE, mariadb_binaries),
        (REDIS_PACKAGE, redis_server_binary),
    )
    for package, finder in finders:
        try:
            finder()
        except ComponentError:
            missing.append(package)
    return missing


def _package(base: str, major: int | None) -> str:
    return base if major is None else f"{base}-{major}"


def _find(names: Sequence[str], dirs: Iterable[str]) -> Path | None:
    """Return the first of ``names`` on PATH, else in one of ``dirs``."""
    for name in names:
        on_path = shutil.which(name)
        if on_path:
            return Path(on_path)
    for directory in dirs:
        for name in names:
            candidate = Path(directory) / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate
    return None


def _postgres_installations() -> list[PostgresBinaries]:
    found: dict[Path, PostgresBinaries] = {}
    for directory in _postgres_bin_dirs():
        postgres, initdb = directory / "postgres", directory / "initdb"
        if not (os.access(postgres, os.X_OK) and os.access(initdb, os.X_OK)):
            continue
        major = _postgres_major(postgres)
        if major is not None:
            found[directory.resolve()] = PostgresBinaries(postgres, initdb, major)
    return list(found.values())


def _postgres_bin_dirs() -> list[Path]:
    dirs = [Path(p) for pattern in _PG_GLOBS for p in _glob(pattern)]
    dirs += [Path(p) for p in _PG_FIXED_DIRS]
    on_path = shutil.which("postgres")
    if on_path:
        dirs.append(Path(on_path).parent)
    return dirs


def _glob(pattern: str) -> list[Path]:
    root, _, rest = pattern.partition("/")
    return sorted(Path(root or "/").glob(rest))


def _postgres_major(postgres: Path) -> int | None:
    """Major version from ``postgres --version`` (``postgres (PostgreSQL) 15.20``)."""
    try:
        out = subprocess.run(
            [str(postgres), "--version"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\)\s+(\d+)", out)
    return int(match.group(1)) if match else None


if __name__ == "__main__":
    for missing_package in missing_debian_packages():
        print(missing_package)  # the bootstrap script reads stdout
