"""Argument types shared by the command groups: numbers checked when the command line is
read, so `--limit -5` or `--port 99999` is refused with a sentence before anything runs."""

from __future__ import annotations

import argparse


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def positive_int(text: str) -> int:
    """A count or an id: 1 or more."""
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not allowed: give a positive number")
    return value


def process_count(text: str) -> int:
    """How many web processes to run: 1-64."""
    value = _integer(text)
    if not 0 < value <= 64:
        raise argparse.ArgumentTypeError(f"{text} processes: give a number in 1-64")
    return value


def port_number(text: str) -> int:
    """A TCP port to listen on: 1-65535."""
    value = _integer(text)
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"{text} is not a port: give a number in 1-65535")
    return value
