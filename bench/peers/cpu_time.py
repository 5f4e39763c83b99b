#!/usr/bin/python3
"""Runs a command and records the CPU time it (and its waited-for children) used.

Writes one JSON object to OUT_JSON: {"user_s", "sys_s", "wall_s", "exit"}; exits
with the command's status. bench/run_peers.sh uses it to put the load
generators' own CPU per call side by side (h2load reports none).

Usage: cpu_time.py OUT_JSON COMMAND [ARG...]
"""

import json
import os
import signal
import sys
import time


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out_path, command = sys.argv[1], sys.argv[2:]
    started = time.monotonic()
    try:
        pid = os.posix_spawnp(command[0], command, os.environ)
    except OSError as e:
        sys.exit(f"cpu_time.py: cannot run {command[0]}: {e.strerror}")
    # Pass a TERM on, so that stopping this wrapper by PID stops the command too.
    signal.signal(signal.SIGTERM, lambda signum, _frame: os.kill(pid, signum))
    _, status, usage = os.wait4(pid, 0)  # Retried on EINTR (PEP 475).
    wall = time.monotonic() - started
    code = os.waitstatus_to_exitcode(status)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(
            {"user_s": usage.ru_utime, "sys_s": usage.ru_stime, "wall_s": wall, "exit": code}, f
        )
        f.write("\n")
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
