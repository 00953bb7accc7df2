"""Run a command and write its wall time and peak memory (max RSS) as JSON: what the bench reports for it.

    python bench/peak.py OUT.json COMMAND [ARG…]

Linux counts into a process's peak memory the memory of the process it was forked from, as
it was at the fork: a command started straight from the bench (a few hundred MB) would carry
the bench's size. This small process forks it instead, so the figure is the command's own.
"""

import json
import os
import sys
import time

if __name__ == "__main__":
    out, command = sys.argv[1], sys.argv[2:]
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.execvp(command[0], command)
    _, status, usage = os.wait4(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    with open(out, "w") as file:
        json.dump({"seconds": time.perf_counter() - started, "max_rss_kb": usage.ru_maxrss, "exit": code}, file)
    sys.exit(code)
