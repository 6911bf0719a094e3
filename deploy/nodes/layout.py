"""The multi-node layout on one machine: what a region runs on several, started by the project.

    nginx (least_conn, passive health checks)
      ├── web node 1: gunicorn (deploy/gunicorn.conf.py) ─┐
      └── web node 2: gunicorn                            ├── PgBouncer (transaction pooling) ── PostgreSQL primary
    task worker 1, task worker 2 (manage.py run_worker) ──┘                                        │ streaming
    Redis (cache; sessions where the settings put them)          statistics reads ── PostgreSQL replica

Everything lives in one directory (a PostgreSQL primary and its streaming replica made with
initdb and ``pg_basebackup -R`` from Debian's server binaries, as deploy/restore-drill does;
PgBouncer, Redis and nginx from Debian, on free ports of 127.0.0.1), and ``down`` stops every
process it started (each in its own session, by process group) and removes the directory.

    deploy/nodes/up [DIR]     start, print the address, leave running (state in DIR/layout.json)
    deploy/nodes/down DIR     stop and remove

From Python (bench/booking_rush_nodes.py, fault tests)::

    with Layout(Path(tmp)) as layout:  # up() ... down()
        layout.url, layout.kill("web1"), layout.start("web1"), layout.use_web_nodes(1)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
HERE = Path(__file__).resolve().parent
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
DATABASE = "vardkontakt"


class LayoutError(RuntimeError):
    pass


def pg_bin() -> Path | None:
    """The newest PostgreSQL server binaries Debian installed, or None."""
    found = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    return found[-1] if found else None


def binary(name: str) -> str:
    for candidate in (shutil.which(name), f"/usr/sbin/{name}", f"/usr/bin/{name}"):
        if candidate and Path(candidate).exists():
            return candidate
    raise LayoutError(f"{name} is not installed (make nginx pgbouncer redis postgresql-server)")


def as_postgres(command: list[str]) -> list[str]:
    """initdb, postgres and pgbouncer refuse to run as root: as root they run as postgres."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(command: list[str], log: Path, env: dict[str, str] | None = None) -> None:
    with log.open("ab") as sink:
        done = subprocess.run(command, stdout=sink, stderr=subprocess.STDOUT, env=env, check=False, cwd=ROOT)  # noqa: S603 (the project's own commands)
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise LayoutError(f"{' '.join(command[:3])} … failed ({done.returncode}):\n{tail}")


# --- PostgreSQL clusters -------------------------------------------------------------------------


@dataclass
class Cluster:
    data: Path
    port: int
    log: Path

    def url(self, database: str = DATABASE) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        _run(
            as_postgres([str(_bin("pg_ctl")), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start"]),
            self.log.with_name("pg_ctl.log"),
        )

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run(  # noqa: S603 (the project's own commands)
                as_postgres([str(_bin("pg_ctl")), "-D", str(self.data), "-m", mode, "-w", "stop"]),
                capture_output=True,
                check=False,
            )

    def sql(self, statement: str, database: str = "postgres") -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=database, autocommit=True, connect_timeout=5
        ) as connection:
            cursor = connection.execute(statement)
            return list(cursor.fetchall()) if cursor.description else []


def _bin(name: str) -> Path:
    found = pg_bin()
    if found is None:
        raise LayoutError("no PostgreSQL server binaries under /usr/lib/postgresql (make postgresql-server)")
    return found / name


def _owned_by_postgres(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


# A throw-away cluster (the tests', the fault tests'): it dies with the test that made it, so
# nothing it holds has to survive a crash of the machine. Without these, every commit waits for
# its WAL to reach the disk, and initdb alone syncs its files for seconds on a busy machine.
# A cluster killed by the operating system would have to be made again, which the test does
# anyway; a PostgreSQL stopped and started (pg_ctl, the fault tests' restarts) writes everything
# out at its shutdown checkpoint and loses nothing committed. Never for a cluster that keeps data.
THROWAWAY_SETTINGS = """
fsync = off
synchronous_commit = off
full_page_writes = off
"""


def make_primary(directory: Path, port: int, *, max_connections: int = 200, durable: bool = True) -> Cluster:
    """A new cluster that accepts streaming replicas from 127.0.0.1 (``durable=False``: a
    throw-away one, see THROWAWAY_SETTINGS)."""
    _owned_by_postgres(directory)
    data = directory / "data"
    log = directory / "postgres.log"
    _run(
        as_postgres(
            [
                str(_bin("initdb")), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                *([] if durable else ["--no-sync"]),
            ]
        ),
        directory / "initdb.log",
    )  # fmt: skip
    settings = f"""
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{directory}'
max_connections = {max_connections}
shared_buffers = 128MB
wal_level = replica
max_wal_senders = 5
hot_standby = on
timezone = 'UTC'
"""
    _append_as_postgres(data / "postgresql.conf", settings + ("" if durable else THROWAWAY_SETTINGS))
    _append_as_postgres(
        data / "pg_hba.conf",
        "\nlocal replication all trust\nhost replication all 127.0.0.1/32 trust\n",
    )
    cluster = Cluster(data, port, log)
    cluster.start()
    return cluster


def make_replica(primary: Cluster, directory: Path, port: int) -> Cluster:
    """A streaming replica of ``primary``: ``pg_basebackup -R`` (standby.signal and
    primary_conninfo written for it), on its own port."""
    _owned_by_postgres(directory)
    data = directory / "data"
    log = directory / "postgres.log"
    _run(
        as_postgres(
            [
                str(_bin("pg_basebackup")),
                "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
                "-D", str(data), "-R", "-X", "stream", "-c", "fast",
            ]
        ),
        directory / "basebackup.log",
    )  # fmt: skip
    # Its queries may run long (the statistics): feedback keeps the primary from removing rows
    # they still read, instead of cancelling them.
    _append_as_postgres(
        data / "postgresql.conf",
        f"\nport = {port}\nunix_socket_directories = '{directory}'\nhot_standby_feedback = on\n",
    )
    cluster = Cluster(data, port, log)
    cluster.start()
    return cluster


def schema_key() -> str:
    """A hash of everything that decides what ``migrate`` makes of an empty database: every
    migration file of the project and of the installed packages whose apps it installs (by their
    names within the project or package: the same files reached through a symlinked .venv give
    the same key), and the PostgreSQL server's version."""
    import importlib.util

    digest = hashlib.sha256()
    digest.update(str(pg_bin()).encode())
    named = [(f"src/{path.relative_to(ROOT / 'src')}", path) for path in sorted(ROOT.glob("src/**/migrations/*.py"))]
    for package in ("django", "django_tasks", "django_tasks_db"):
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.origin is not None:
            where = Path(spec.origin).parent
            named += [
                (f"{package}/{path.relative_to(where)}", path) for path in sorted(where.glob("**/migrations/*.py"))
            ]
    for name, path in named:
        digest.update(name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:24]


SCHEMA_CACHE = ROOT / "var" / "cache"


def schema_dump() -> Path:
    return SCHEMA_CACHE / f"layout-schema-{schema_key()}.sql"


def _client(name: str, port: int, user: str, host: str) -> list[str]:
    return [str(_bin(name)), "-h", host, "-p", str(port), "-U", user]


def schema_restore(
    port: int, database: str, log: Path, *, user: str = "postgres", host: str = "127.0.0.1", password: str = ""
) -> bool:
    """The cached schema (schema_dump()) into the empty ``database``, when there is one."""
    dump = schema_dump()
    if not dump.exists():
        return False
    env = {**os.environ, "PGPASSWORD": password} if password else None
    command = [*_client("psql", port, user, host), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", database, "-f", str(dump)]
    _run(command, log, env)
    return True


def schema_save(port: int, database: str, log: Path, *, user: str = "postgres", host: str = "127.0.0.1") -> None:
    """``database``, just migrated, as the cached schema (unless one is there already)."""
    dump = schema_dump()
    if dump.exists():
        return
    SCHEMA_CACHE.mkdir(parents=True, exist_ok=True)
    partial = dump.with_suffix(f".{os.getpid()}.part")
    _run([*_client("pg_dump", port, user, host), "--no-owner", "--no-privileges", "-f", str(partial), database], log)
    partial.chmod(0o644)
    partial.replace(dump)  # whole or not at all, also with two layouts coming up at once
    for older in SCHEMA_CACHE.glob("layout-schema-*.sql"):  # the schemas of earlier migrations
        if older != dump:
            older.unlink(missing_ok=True)


def migrate(cluster: Cluster, database: str, env: dict[str, str], log: Path, *, cache: bool = True) -> str:
    """Bring an empty ``database`` of ``cluster`` to the current schema; returns how ("restored"
    or "migrated").

    ``manage.py migrate`` of a new database takes 20-60 s here (over 300 migrations). With
    ``cache``, the migrated database is kept as a plain dump under var/cache/, named by
    schema_key(), and a later layout restores it with psql instead (the fault tests' own test
    database too: tests/faults/conftest.py). ``migrate`` runs after the restore as well (then it
    has nothing to do: a few seconds): should the cache ever not match the migration files, what
    it lacks is applied, and an applied migration whose file changed cannot be in a dump of
    another key."""
    restored = cache and schema_restore(cluster.port, database, log)
    _run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], log, env)
    if cache and not restored:
        schema_save(cluster.port, database, log)
    return "restored" if restored else "migrated"


def _append_as_postgres(path: Path, text: str) -> None:
    with path.open("a") as handle:
        handle.write(text)


# --- the layout ----------------------------------------------------------------------------------


@dataclass
class Service:
    name: str
    command: list[str]
    env: dict[str, str]
    log: str
    pid: int | None = None


@dataclass
class Layout:
    root: Path
    web_nodes: int = 2
    workers: int = 2
    replica: bool = True
    wsgi: str = "vardkontakt.wsgi"
    database: str = DATABASE
    # False: the primary is a throw-away cluster (tests, fault tests; THROWAWAY_SETTINGS).
    durable: bool = True
    # The migrated schema from var/cache/ when there (migrate()).
    schema_cache: bool = True
    web_env: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    in_upstream: list[str] = field(default_factory=list)
    # Seconds per step of up() (and how the schema came: "restored" or "migrated").
    timings: dict[str, Any] = field(default_factory=dict)

    # -- addresses

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['nginx']}"

    @property
    def primary_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.ports['primary']}/{self.database}"

    @property
    def pooled_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.ports['pgbouncer']}/{self.database}"

    @property
    def replica_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.ports['replica']}/{self.database}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.ports['redis']}/0"

    def primary(self) -> Cluster:
        return Cluster(self.root / "primary" / "data", self.ports["primary"], self.root / "primary" / "postgres.log")

    def replica_cluster(self) -> Cluster:
        return Cluster(self.root / "replica" / "data", self.ports["replica"], self.root / "replica" / "postgres.log")

    def app_env(self) -> dict[str, str]:
        """The environment of every process of the application (web nodes, workers, manage.py)."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}",
            "DJANGO_SETTINGS_MODULE": "vardkontakt.settings",
            # A demo installation (production would need identity providers and gateways).
            "VK_DEMO": "true",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "nodes-layout-" + self.root.name,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "VK_SITE_URL": self.url,
            "VK_TRUSTED_PROXIES": "127.0.0.1",
            "VK_VAR_DIR": str(self.root / "var"),
            "VK_LOG_LEVEL": "WARNING",
            "DATABASE_URL": self.pooled_url,
            "VK_DB_POOLER": "pgbouncer",
            "VK_REDIS_URL": self.redis_url,
            "VK_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "VK_SMS_BACKEND": "file",
        }
        if self.replica:
            env["VK_REPLICA_DATABASE_URL"] = self.replica_url
        return {**env, **self.web_env}

    # -- up and down

    def up(self, *, load_demo: bool = False) -> Layout:
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        for name in ("logs", "var"):
            (self.root / name).mkdir(exist_ok=True)
        for name in ("primary", "replica", "pgbouncer", "redis", "nginx"):
            self.ports.setdefault(name, free_port())
        for index in range(1, self.web_nodes + 1):
            self.ports.setdefault(f"web{index}", free_port())
        self.save()
        try:
            self._up(load_demo)
        except BaseException:
            self.down()
            raise
        return self

    def _up(self, load_demo: bool) -> None:
        began = last = time.monotonic()

        def step(name: str) -> None:
            nonlocal last
            now = time.monotonic()
            self.timings[name] = round(now - last, 2)
            last = now

        self._redis()  # the cache: load_demo uses it too
        step("redis")
        primary = make_primary(self.root / "primary", self.ports["primary"], durable=self.durable)
        step("primary")
        primary.sql(f"CREATE DATABASE {self.database}")
        # Django sends SET TIME ZONE on each new connection unless the database is in UTC already.
        primary.sql(f"ALTER DATABASE {self.database} SET timezone TO 'UTC'")
        direct = {**self.app_env(), "DATABASE_URL": self.primary_url, "VK_DB_POOLER": ""}
        direct.pop("VK_REPLICA_DATABASE_URL", None)
        self.timings["schema"] = migrate(
            primary, self.database, direct, self.root / "logs" / "migrate.log", cache=self.schema_cache
        )
        step("migrate")
        if load_demo:
            _run(
                [PYTHON, "manage.py", "load_demo", "--no-activity", "-v", "0"],
                self.root / "logs" / "load_demo.log",
                direct,
            )
            step("load_demo")
        if self.replica:
            make_replica(primary, self.root / "replica", self.ports["replica"])
            step("replica")
        self._pgbouncer()
        for index in range(1, self.web_nodes + 1):
            self._web(index)
        for index in range(1, self.workers + 1):
            self.start_service(
                Service(
                    f"worker{index}", [PYTHON, "manage.py", "run_worker"], self.app_env(), self._log(f"worker{index}")
                )
            )
        self.in_upstream = [f"web{i}" for i in range(1, self.web_nodes + 1)]
        self._nginx()
        step("start")
        self.wait_healthy()
        step("healthy")
        self.timings["total"] = round(time.monotonic() - began, 2)
        self.save()

    def down(self) -> None:
        """Stop everything this layout started, then remove its directory."""
        # All at once (gunicorn's graceful stop and a worker's current task each take seconds);
        # whatever has not ended after 15 s is killed.
        running = [name for name in self.services if self.services[name].pid is not None]
        for name in running:
            self.kill(name, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(_group_alive(self.services[n].pid or 0) for n in running):
            time.sleep(0.1)
        for name in running:
            self.stop(name, timeout=0)
        for cluster_dir in ("replica", "primary"):
            data = self.root / cluster_dir / "data"
            if (data / "postmaster.pid").exists():
                Cluster(data, 0, self.root / cluster_dir / "postgres.log").stop(
                    "immediate" if cluster_dir == "replica" else "fast"
                )
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Layout:
        return self.up()

    def __exit__(self, *exc: object) -> None:
        self.down()

    # -- services

    def _log(self, name: str) -> str:
        return str(self.root / "logs" / f"{name}.log")

    def start_service(self, service: Service) -> None:
        with open(service.log, "ab") as sink:
            process = subprocess.Popen(  # noqa: S603 (the project's own commands)
                service.command,
                env=service.env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                start_new_session=True,  # its own process group: stopped as a whole, and only it
            )
        service.pid = process.pid
        self.services[service.name] = service
        self.save()

    def start(self, name: str) -> None:
        """Start a stopped or killed service again with its command and environment."""
        service = self.services[name]
        self.start_service(service)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group of ``name`` (a web node's master and its workers)."""
        pid = self.services[name].pid
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, sig)

    def stop(self, name: str, timeout: float = 15) -> None:
        service = self.services.get(name)
        if service is None or service.pid is None:
            return
        self.kill(name, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _group_alive(service.pid):
            _reap(service.pid)
            time.sleep(0.1)
        if _group_alive(service.pid):
            self.kill(name, signal.SIGKILL)
        _reap(service.pid)
        service.pid = None
        self.save()

    def pids(self, name: str) -> list[int]:
        """The processes of a service's group (master and workers)."""
        pid = self.services[name].pid
        if pid is None:
            return []
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if os.getpgid(int(entry)) == pid and not _exited(int(entry)):
                        found.append(int(entry))
                except (ProcessLookupError, PermissionError):
                    continue
        return found

    def _web(self, index: int) -> None:
        name = f"web{index}"
        env = {**self.app_env(), "VK_WEB_BIND": f"127.0.0.1:{self.ports[name]}"}
        command = [PYTHON, "-m", "gunicorn", self.wsgi, "--config", str(ROOT / "deploy" / "gunicorn.conf.py")]
        self.start_service(Service(name, command, env, self._log(name)))

    def _pgbouncer(self) -> None:
        directory = self.root / "pgbouncer"
        _owned_by_postgres(directory)
        (directory / "users.txt").write_text('"postgres" ""\n')
        ini = (HERE / "pgbouncer.ini").read_text()
        for key, value in {
            "@PRIMARY_PORT@": str(self.ports["primary"]),
            "@DATABASE@": self.database,
            "@PORT@": str(self.ports["pgbouncer"]),
            "@DIR@": str(directory),
        }.items():
            ini = ini.replace(key, value)
        (directory / "pgbouncer.ini").write_text(ini)
        for path in directory.iterdir():
            if os.geteuid() == 0:
                shutil.chown(path, "postgres", "postgres")
        command = as_postgres([binary("pgbouncer"), str(directory / "pgbouncer.ini")])
        self.start_service(Service("pgbouncer", command, dict(os.environ), self._log("pgbouncer")))
        _wait_port(self.ports["pgbouncer"], "pgbouncer", self._log("pgbouncer"))

    def _redis(self) -> None:
        command = [
            binary("redis-server"),
            "--bind", "127.0.0.1", "--port", str(self.ports["redis"]), "--save", "", "--appendonly", "no",
            "--dir", str(self.root / "var"),
        ]  # fmt: skip
        self.start_service(Service("redis", command, dict(os.environ), self._log("redis")))
        _wait_port(self.ports["redis"], "redis", self._log("redis"))

    def _nginx_config(self) -> str:
        directory = self.root / "nginx"
        servers = "\n".join(
            f"    server 127.0.0.1:{self.ports[n]} max_fails=3 fail_timeout=2s;" for n in self.in_upstream
        )
        text = (HERE / "nginx.conf").read_text()
        for key, value in {"@DIR@": str(directory), "@PORT@": str(self.ports["nginx"]), "@SERVERS@": servers}.items():
            text = text.replace(key, value)
        return text

    def _nginx(self) -> None:
        directory = self.root / "nginx"
        (directory / "log").mkdir(parents=True, exist_ok=True)
        (directory / "nginx.conf").write_text(self._nginx_config())
        nginx = binary("nginx")
        _run(
            [nginx, "-t", "-q", "-p", str(directory), "-c", str(directory / "nginx.conf")],
            self.root / "logs" / "nginx-t.log",
        )
        command = [nginx, "-p", str(directory), "-c", str(directory / "nginx.conf")]
        self.start_service(Service("nginx", command, dict(os.environ), self._log("nginx")))
        _wait_port(self.ports["nginx"], "nginx", self._log("nginx"))

    def use_web_nodes(self, count: int) -> None:
        """Balance over the first ``count`` web nodes only (nginx reloads its configuration; the
        others keep running, idle)."""
        self.in_upstream = [f"web{i}" for i in range(1, count + 1)]
        directory = self.root / "nginx"
        (directory / "nginx.conf").write_text(self._nginx_config())
        self.kill("nginx", signal.SIGHUP)
        time.sleep(1.0)  # old workers finish; new ones take the new upstream
        self.save()

    def wait_healthy(self, timeout: float = 120) -> dict[str, Any]:
        """Until /healthz through nginx and on every web node answers 200 (the workers beat)."""
        deadline = time.monotonic() + timeout
        addresses = [self.url] + [f"http://127.0.0.1:{self.ports[f'web{i}']}" for i in range(1, self.web_nodes + 1)]
        body: dict[str, Any] = {}
        while True:
            healthy = 0
            for address in addresses:
                try:
                    with urllib.request.urlopen(f"{address}/healthz", timeout=5) as answer:  # noqa: S310
                        body = json.loads(answer.read())
                        healthy += answer.status == 200
                except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
                    pass
            if healthy == len(addresses):
                return body
            for name, service in self.services.items():
                if service.pid is not None and not _group_alive(service.pid):
                    raise LayoutError(f"{name} stopped:\n{Path(service.log).read_text(errors='replace')[-3000:]}")
            if time.monotonic() > deadline:
                raise LayoutError(f"not healthy within {timeout:.0f} s; last /healthz: {body}")
            time.sleep(0.5)

    # -- state, for deploy/nodes/down from another process

    def save(self) -> None:
        state = {
            "root": str(self.root),
            "web_nodes": self.web_nodes,
            "workers": self.workers,
            "replica": self.replica,
            "wsgi": self.wsgi,
            "database": self.database,
            "durable": self.durable,
            "ports": self.ports,
            "in_upstream": self.in_upstream,
            "services": {name: asdict(s) for name, s in self.services.items()},
            "timings": self.timings,
        }
        if self.root.exists():
            (self.root / "layout.json").write_text(json.dumps(state, indent=1))

    @classmethod
    def load(cls, root: Path) -> Layout:
        state = json.loads((root / "layout.json").read_text())
        layout = cls(
            Path(state["root"]), state["web_nodes"], state["workers"], state["replica"], state["wsgi"], state["database"],
            durable=state.get("durable", True), ports=state["ports"], in_upstream=state["in_upstream"],
        )  # fmt: skip
        layout.services = {name: Service(**s) for name, s in state["services"].items()}
        return layout


def _exited(pid: int) -> bool:
    """A process that has ended but not been collected yet (a zombie): it still has its group, but
    it runs nothing (a task worker whose loop ended is one until the layout stops)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    _reap(pgid)
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _reap(pid: int) -> None:
    """Collect a child that has exited (started by this process), so it leaves no zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _wait_port(port: int, name: str, log: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise LayoutError(
        f"{name} did not listen on {port} within {timeout:.0f} s:\n{Path(log).read_text(errors='replace')[-2000:]}"
    )


def main(argv: list[str]) -> int:
    if len(argv) >= 1 and argv[0] == "up":
        root = Path(argv[1]) if len(argv) > 1 else Path(tempfile.mkdtemp(prefix="vardkontakt-nodes."))
        layout = Layout(root)
        layout.up(load_demo=True)
        print(f"up: {layout.url} (web nodes {', '.join(str(layout.ports[n]) for n in layout.in_upstream)},"
              f" PgBouncer {layout.ports['pgbouncer']}, primary {layout.ports['primary']},"
              f" replica {layout.ports['replica']}, Redis {layout.ports['redis']}); stop with deploy/nodes/down {root}")  # fmt: skip
        return 0
    if len(argv) == 2 and argv[0] == "down":
        root = Path(argv[1])
        if not (root / "layout.json").exists():
            print(f"no layout in {root}", file=sys.stderr)
            return 1
        Layout.load(root).down()
        print(f"down: everything of {root} stopped and removed")
        return 0
    print("usage: layout.py up [DIR] | down DIR", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
