"""What the exit status of a ``streamfold`` command means (docs/operations.md, "Exit codes").

Scripts branch on these: 3 is worth retrying later, 2 is not until someone changes the
command or the configuration.
"""

from __future__ import annotations

OK = 0
PROBLEM_FOUND = 1  # the command ran and reports a problem: drift, dead letters, failed records
USAGE = 2  # a flag, an argument or a setting (environment, AWS region or credentials) is wrong
UNAVAILABLE = 3  # the search backend, the event store or AWS could not be reached: retry later
INTERNAL = 70  # a fault in streamfold itself (sysexits' EX_SOFTWARE); please report it
INTERRUPTED = 130  # stopped with Ctrl-C
