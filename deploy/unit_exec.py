#!/usr/bin/env python3
"""Run a systemd unit's command lines as plain processes, where systemd is not PID 1.

``make deploy-smoke`` starts the services with the very command lines of deploy/systemd/*.service,
read from the files, so the smoke test and the units cannot drift apart. This does the part of
systemd that decides *what* runs and with which environment:

- ``Environment=`` and ``EnvironmentFile=`` (in order, later ones win) over a clean environment,
  with ``${NAME}`` and ``$NAME`` in command lines expanded the way systemd does;
- ``WorkingDirectory=``, ``ExecStartPre=`` (in order, each must succeed) and ``ExecStart=`` (the
  last one replaces this process, so its process id is the service's; a ``Type=oneshot`` unit
  runs each ``ExecStart=`` in turn);
- ``StateDirectory=``, ``CacheDirectory=`` and the like are created (owner and mode) and announced
  in ``STATE_DIRECTORY`` and friends; ``UMask=`` is applied;
- ``--map FROM=TO`` moves the installation's paths (``/opt/vardkontakt``, ``/etc/vardkontakt``, ...)
  to the test's, in command lines, ``WorkingDirectory=``, ``EnvironmentFile=``, ``Environment=``
  values and the directories; ``--run-as USER`` stands in for ``User=``/``DynamicUser=`` (as root).

The sandboxing options (ProtectSystem= and the rest) are systemd's and are not reproduced; they
are checked with ``systemd-analyze verify`` on the copy ``rewrite`` writes. Anything in an
``Exec`` line this does not understand (specifiers, prefixes other than ``-``) stops it, rather
than running something other than what systemd would run.

    unit_exec.py show    UNIT --map FROM=TO ...      print the command lines
    unit_exec.py rewrite UNIT --map FROM=TO ... DIR  write the unit with the paths moved, into DIR
    unit_exec.py run     UNIT --map FROM=TO ... [--run-as USER]
    unit_exec.py with    UNIT --map FROM=TO ... [--run-as USER] -- COMMAND ...
                         (another command in the unit's environment, like `systemd-run
                         --property=EnvironmentFile=...`: a management command, say)
"""

from __future__ import annotations

import argparse
import os
import pwd
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DIRECTORY_KINDS = {
    "StateDirectory": ("/var/lib", "STATE_DIRECTORY"),
    "CacheDirectory": ("/var/cache", "CACHE_DIRECTORY"),
    "LogsDirectory": ("/var/log", "LOGS_DIRECTORY"),
    "RuntimeDirectory": ("/run", "RUNTIME_DIRECTORY"),
    "ConfigurationDirectory": ("/etc", "CONFIGURATION_DIRECTORY"),
}
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_WHOLE_WORD_VARIABLE = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)$")


class UnitError(Exception):
    pass


@dataclass
class Command:
    argv: list[str]
    ignore_failure: bool


@dataclass
class Unit:
    path: Path
    entries: list[tuple[str, str, str]] = field(default_factory=list)  # (section, key, value)

    def values(self, key: str, section: str = "Service") -> list[str]:
        return [value for sec, name, value in self.entries if sec == section and name == key]

    def value(self, key: str, default: str = "") -> str:
        found = self.values(key)
        return found[-1] if found else default


def read_unit(path: Path) -> Unit:
    unit = Unit(path)
    section = ""
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise UnitError(f"{path}: not a key=value line: {line!r}")
        unit.entries.append((section, key.strip(), value.strip()))
    return unit


def moved(text: str, maps: list[tuple[str, str]]) -> str:
    """A path (or a word holding one, such as NAME=/path) with the first matching prefix moved."""
    for old, new in maps:
        index = text.find(old)
        if index != -1 and (index == 0 or text[index - 1] in "=:"):
            rest = text[index + len(old) :]
            if rest == "" or rest.startswith("/"):
                return text[:index] + new + rest
    return text


def parse_command(value: str, maps: list[tuple[str, str]]) -> Command:
    ignore_failure = False
    while value and value[0] in "-@:+!|":
        if value[0] != "-":
            raise UnitError(f"exec prefix {value[0]!r} is not supported here: {value!r}")
        ignore_failure = True
        value = value[1:]
    if re.search(r"%[^%]", value):
        raise UnitError(f"specifiers (%x) are not supported here: {value!r}")
    words = [moved(word, maps) for word in shlex.split(value.replace("%%", "%"))]
    if not words or not words[0].startswith("/"):
        raise UnitError(f"the command must be an absolute path: {value!r}")
    return Command(words, ignore_failure)


def expand(argv: list[str], env: dict[str, str]) -> list[str]:
    """systemd's rules: ``$NAME`` as a word splits at whitespace; ``${NAME}`` stays one word."""

    def lookup(name: str) -> str:
        if name not in env:
            raise UnitError(f"${name} is used in a command line but not set in the environment")
        return env[name]

    result: list[str] = []
    for word in argv:
        whole = _WHOLE_WORD_VARIABLE.match(word)
        if whole:
            result.extend(lookup(whole[1]).split())
        else:
            result.append(_VARIABLE.sub(lambda match: lookup(match[1]), word))
    return result


def read_environment_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines, # and ; comments, optional single or double quotes around a value."""
    found: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise UnitError(f"{path}:{number}: not a KEY=VALUE line")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        found[key] = value
    return found


def environment(unit: Unit, maps: list[tuple[str, str]], user: pwd.struct_passwd | None) -> dict[str, str]:
    env = {"PATH": SYSTEMD_PATH, "LANG": "C.UTF-8"}
    if user is not None:
        env.update(HOME=user.pw_dir, USER=user.pw_name, LOGNAME=user.pw_name, SHELL=user.pw_shell)
    # systemd applies Environment= lines first and EnvironmentFile= lines after them.
    for value in unit.values("Environment"):
        for assignment in shlex.split(value):
            key, _, setting = assignment.partition("=")
            env[key] = moved(setting, maps)
    for value in unit.values("EnvironmentFile"):
        optional = value.startswith("-")
        path = Path(moved(value.lstrip("-"), maps))
        if not path.exists():
            if optional:
                continue
            raise UnitError(f"EnvironmentFile {path} does not exist")
        env.update(read_environment_file(path))
    return env


def prepare_directories(unit: Unit, maps: list[tuple[str, str]], user: pwd.struct_passwd | None) -> dict[str, str]:
    announced: dict[str, str] = {}
    for key, (base, variable) in DIRECTORY_KINDS.items():
        mode = int(unit.value(f"{key}Mode", "0755"), 8)
        paths = []
        for name in " ".join(unit.values(key)).split():
            path = Path(moved(f"{base}/{name}", maps))
            path.mkdir(parents=True, exist_ok=True)
            path.chmod(mode)
            if user is not None and os.geteuid() == 0:
                os.chown(path, user.pw_uid, user.pw_gid)
            paths.append(str(path))
        if paths:
            announced[variable] = ":".join(paths)
    return announced


def commands(unit: Unit, key: str, maps: list[tuple[str, str]]) -> list[Command]:
    return [parse_command(value, maps) for value in unit.values(key) if value]


def become(user: pwd.struct_passwd | None, umask: int) -> None:
    """What systemd does last before exec: the unit's UMask= and its user."""
    os.umask(umask)
    if user is None or os.geteuid() != 0:
        return
    os.setgroups([])
    os.setgid(user.pw_gid)
    os.setuid(user.pw_uid)


def run(unit: Unit, maps: list[tuple[str, str]], run_as: str | None, instead: list[str] | None = None) -> int:
    user = pwd.getpwnam(run_as) if run_as else None
    env = environment(unit, maps, user)
    env.update(prepare_directories(unit, maps, user))
    workdir = moved(unit.value("WorkingDirectory", "/"), maps)
    umask = int(unit.value("UMask", "0022"), 8)
    if instead is not None:
        print(f"{unit.path.name} (environment): {shlex.join(instead)}", file=sys.stderr, flush=True)
        os.chdir(workdir)
        become(user, umask)
        os.execve(instead[0], instead, env)  # noqa: S606 (the caller's command, in the unit's environment)
    oneshot = unit.value("Type") == "oneshot"
    starts = commands(unit, "ExecStart", maps)
    if not starts or (len(starts) > 1 and not oneshot):
        raise UnitError(f"{unit.path}: one ExecStart= expected (several only with Type=oneshot)")
    before = commands(unit, "ExecStartPre", maps)
    # A oneshot unit runs all its ExecStart= lines in turn; otherwise the one ExecStart= becomes
    # this process.
    last = None if oneshot else starts[0]
    if oneshot:
        before += starts
    for command in before:
        argv = expand(command.argv, env)
        # The line as written in the unit: expanded, ${DATABASE_URL} would print a password.
        print(f"{unit.path.name}: {shlex.join(command.argv)}", file=sys.stderr, flush=True)
        result = subprocess.run(argv, cwd=workdir, env=env, check=False, preexec_fn=lambda: become(user, umask))  # noqa: S603
        if result.returncode != 0 and not command.ignore_failure:
            print(f"{unit.path.name}: exited with {result.returncode}", file=sys.stderr)
            return result.returncode
    if last is None:
        return 0
    argv = expand(last.argv, env)
    print(f"{unit.path.name}: {shlex.join(last.argv)}", file=sys.stderr, flush=True)
    os.chdir(workdir)
    become(user, umask)
    os.execve(argv[0], argv, env)  # noqa: S606 (the unit's own command, as systemd would run it)


def show(unit: Unit, maps: list[tuple[str, str]]) -> None:
    for key in ("ExecStartPre", "ExecStart"):
        for command in commands(unit, key, maps):
            print(f"{key}: {shlex.join(command.argv)}")


def rewrite(unit: Unit, maps: list[tuple[str, str]], directory: Path) -> Path:
    """The unit file with every mapped path moved, for systemd-analyze verify to check."""
    lines = []
    for raw in unit.path.read_text(encoding="utf-8").splitlines():
        stripped = raw.strip()
        if stripped and stripped[0] not in "#;[" and "=" in stripped:
            key, _, value = stripped.partition("=")
            if key.startswith("Exec"):
                prefix = value[: len(value) - len(value.lstrip("-@:+!|"))]
                value = prefix + " ".join(shlex.quote(moved(word, maps)) for word in shlex.split(value[len(prefix) :]))
            elif key in ("WorkingDirectory", "EnvironmentFile", "Environment"):
                value = " ".join(moved(word, maps) for word in value.split(" "))
            raw = f"{key}={value}"
        lines.append(raw)
    target = directory / unit.path.name
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["show", "rewrite", "run", "with"])
    parser.add_argument("unit", type=Path)
    parser.add_argument("directory", type=Path, nargs="?", help="where rewrite writes the unit")
    parser.add_argument("--map", action="append", default=[], metavar="FROM=TO", help="move a path prefix")
    parser.add_argument("--run-as", help="the user to run as when started as root (for User=/DynamicUser=)")
    # Everything after `--` is the command for `with`, untouched by argparse.
    argv = sys.argv[1:]
    command = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    maps = []
    for item in args.map:
        old, sep, new = item.partition("=")
        if not sep or not old.startswith("/") or not new.startswith("/"):
            parser.error(f"--map needs /FROM=/TO, not {item!r}")
        maps.append((old.rstrip("/"), new.rstrip("/")))
    try:
        unit = read_unit(args.unit)
        if args.action == "show":
            show(unit, maps)
        elif args.action == "rewrite":
            if args.directory is None:
                parser.error("rewrite needs the directory to write into")
            print(rewrite(unit, maps, args.directory))
        elif args.action == "with":
            if not command or not command[0].startswith("/"):
                parser.error("with needs -- and a command whose first word is an absolute path")
            return run(unit, maps, args.run_as, instead=command)
        else:
            return run(unit, maps, args.run_as)
    except UnitError as exc:
        print(f"unit_exec: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
