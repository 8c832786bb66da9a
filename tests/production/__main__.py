"""Run the production tests: `python -m tests.production [pytest args]`.

Starts PostgreSQL and Redis (tests/production/servers.py), points abf at
them (DATABASE_URL, REDIS_URL) before Django loads its settings, runs
pytest on tests/production, and stops both servers whatever happens. Where
a server is not installed it says so and exits 0 after skipping, like the
suite's other tests that need a missing part.
"""
import os
import sys

import pytest

from tests.production import servers


def main(args):
    try:
        stack = servers.Stack()
    except servers.ServerMissing as missing:
        print(f"production tests skipped: {missing}", file=sys.stderr)
        return 0
    with stack:
        os.environ.update(stack.env)
        servers.CURRENT = stack
        return pytest.main(["tests/production", *args])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
