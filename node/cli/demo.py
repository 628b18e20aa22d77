"""`conode demo`: fill an empty node with sample content for a first look."""

from __future__ import annotations

import argparse

from node.context import Node
from node.settings import Settings

from . import demo_content as demo
from .content import run_with_node


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    async def fill(node: Node) -> int:
        result = await demo.fill(node)
        print(f"created members {', '.join(result.members)}")
        for post in result.posts:
            print(f"created post {post}")
        print(f"created {result.comments} comments (one waits in the moderation queue)")
        print(f"open {settings.url}/ to look around")
        return 0

    return run_with_node(settings, fill)


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "demo", help="fill an empty node with sample members, posts, offers and comments"
    )
    parser.set_defaults(handler=cmd_demo)
