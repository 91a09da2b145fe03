#!/usr/bin/env python3
"""Fail when a lock file no longer satisfies the requirements file it was compiled from.

Usage: check_lock.py REQUIREMENTS LOCK [REQUIREMENTS LOCK ...]

Every requirement in REQUIREMENTS (following ``-r`` includes) must be in LOCK, at the same
version where it is pinned with ``==``. Catches an edited requirements file whose lock was not
regenerated with ``make lock``. Standard library only: it runs before the virtualenv exists.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*)$")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def logical_lines(path: Path):
    """Lines of a requirements file with comments dropped and backslash continuations joined."""
    text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    for line in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if line:
            yield line


def requirements(path: Path, seen: set[Path] | None = None) -> dict[str, str]:
    """{canonical name: specifier} of a requirements file and the files it includes with -r."""
    seen = set() if seen is None else seen
    path = path.resolve()
    if path in seen:
        return {}
    seen.add(path)
    found: dict[str, str] = {}
    for line in logical_lines(path):
        include = re.match(r"^(?:-r|--requirement)(?:\s+|=)(\S+)", line)
        if include:
            found.update(requirements(path.parent / include.group(1), seen))
            continue
        if line.startswith("-"):
            continue
        match = NAME.match(line)
        if match:
            spec = match.group(2).split(";")[0].split("--hash")[0].strip()
            found[canonical(match.group(1))] = spec.replace(" ", "")
    return found


def main(argv: list[str]) -> int:
    if len(argv) < 2 or len(argv) % 2:
        print(__doc__, file=sys.stderr)
        return 2
    problems = []
    for source, lock in zip(argv[::2], argv[1::2], strict=True):
        wanted = requirements(Path(source))
        locked = requirements(Path(lock))
        for name, spec in sorted(wanted.items()):
            pinned = locked.get(name)
            if pinned is None:
                problems.append(f"{source} asks for {name}{spec}, which {lock} does not list")
            elif spec.startswith("==") and spec != pinned:
                problems.append(f"{source} asks for {name}{spec}, {lock} has {name}{pinned}")
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print("The lock files are out of date: run `make lock` and commit them.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
