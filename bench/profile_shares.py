"""Shares of a `conode worker`'s on-CPU samples, from the raw py-spy files `bench/fanout.py
--profile DIR` writes: the parts of a delivery (the RSA operation, the rest of signing,
aiohttp's request path, recording and claiming a pass, logging), then self time by line.
Samples of start-up (imports, opening the node) are left out: the figures are of the run. The
signing thread's samples (CONODE_SIGNING_THREADS) are parts of their own: shares add up over
both threads, so a thread busy all the time shows beside a loop that is not.
Usage: .venv/bin/python bench/profile_shares.py DIR/postgresql-4000on4000-1w-worker0.txt
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from collections.abc import Callable

Frame = tuple[str, str, str]  # function, file, line


def on_signing_thread(fs: list[Frame]) -> bool:
    return any(f[1] == "activitypub/signing_threads.py" for f in fs)


PARTS: list[tuple[str, Callable[[list[Frame]], bool]]] = [  # the first that matches counts
    (
        "signing thread: RSA operation (and waiting for the GIL after it)",
        lambda fs: on_signing_thread(fs) and fs[-1][0] == "sign_bytes",
    ),
    ("signing thread: the rest", on_signing_thread),
    (
        "RSA operation",
        lambda fs: (
            fs[-1][0] in ("sign_bytes", "sign_request") and fs[-1][1].startswith("activitypub/")
        ),
    ),
    ("rest of signing", lambda fs: any(f[0] == "signature_headers" for f in fs)),
    ("logging", lambda fs: any("logging/" in f[1] for f in fs)),
    (
        "aiohttp's request path",
        lambda fs: any(f[0] == "Deliverer._post" or f[1].startswith("aiohttp/") for f in fs),
    ),
    ("recording a pass", lambda fs: any(f[0] in ("_record", "_record_pass") for f in fs)),
    ("claiming and reading a pass", lambda fs: any(f[0] in ("_claim", "_prepare") for f in fs)),
    ("the event loop itself (uvloop)", lambda fs: fs[-1][0] == "Runner.run"),
]


def frames(stack: str) -> list[Frame]:
    out = []
    for text in stack.split(";"):
        match = re.match(r"(.*) \((.*?)(?::(\d+))?\)$", text)
        out.append(
            (match.group(1), match.group(2), match.group(3) or "") if match else (text, "", "")
        )
    return out


def start_up(fs: list[Frame]) -> bool:
    return (
        not (on_signing_thread(fs) or any(f[1].startswith("uvloop/") for f in fs))
        or any(f[0] in ("_find_and_load", "open_node", "load_checked_secret") for f in fs)
        or any(f[0] == "<module>" for f in fs[3:])
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profile")
    parser.add_argument("--lines", type=int, default=30)
    args = parser.parse_args()
    total, parts, lines = 0, Counter[str](), Counter[str]()
    with open(args.profile) as raw:
        for row in raw:
            stack, _, count = row.rstrip("\n").rpartition(" ")
            fs = frames(stack)
            if start_up(fs):
                continue
            total += int(count)
            name = next((name for name, test in PARTS if test(fs)), "other")
            parts[name] += int(count)
            lines[f"{fs[-1][0]} ({fs[-1][1]}:{fs[-1][2]})"] += int(count)
    print(f"{total} samples in the run")
    for name, count in parts.most_common():
        print(f"{100 * count / total:5.1f}%  {name}")
    print("-- self time by line --")
    for name, count in lines.most_common(args.lines):
        print(f"{100 * count / total:5.1f}%  {name}")


if __name__ == "__main__":
    main()
