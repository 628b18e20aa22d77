"""`conode doctor [--json]`: is this node whole and working (node/ops/doctor.py)? One line per
check, each saying what to do when something is wrong; exit status 0 when healthy, 1 when not."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from node.ops import doctor
from node.settings import Settings


def cmd_doctor(settings: Settings, args: argparse.Namespace) -> int:
    checks = asyncio.run(doctor.examine(settings))
    healthy = doctor.healthy(checks)
    if args.json:
        print(json.dumps([check.as_json() for check in checks], indent=2, ensure_ascii=False))
    else:
        for check in checks:
            print(f"{check.status:<4}  {check.name:<8}  {check.text}")
        if healthy:
            print("the node is healthy")
    if not healthy:
        failed = ", ".join(check.name for check in checks if check.status == "fail")
        print(
            f"conode: the node needs attention ({failed}): do what the lines marked fail say",
            file=sys.stderr,
        )
    return 0 if healthy else 1


def add_commands(commands: Any) -> None:
    parser = commands.add_parser(
        "doctor",
        help="check the database, node secret, public URL, workers, queues and mail "
        "(exit 1 when something is wrong)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON array")
    parser.set_defaults(handler=cmd_doctor, needs_schema=False)
