"""The event loop `conode serve` runs on: asyncio's own, not uvloop.

libuv, under uvloop, accepts one new connection per turn of the loop (since libuv 1.45, pull
request #3696), and a busy node's turns take tens of milliseconds: a burst of new connections
(the servers that all fetch a widely boosted post at once) waited in line for up to 1.5 s in
bench/stampede.py. asyncio accepts every waiting connection in one turn, and the stampede's
p99 fell from ~400 ms to under 100 ms (docs/benchmarks.md). `conode worker` opens connections
but accepts none, and keeps uvloop for its deliveries.
"""

SERVE_LOOP = "asyncio"  # uvicorn's --loop
