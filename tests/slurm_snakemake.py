"""`snakemake` for the SLURM tests: the executor plugin checks job states at most every POLL_S seconds.

The plugin waits 10 s longer after each check that finds no job finished (up to 180 s), right for a cluster's
jobs of minutes and hours; a test's jobs of seconds then sit finished for tens of seconds before Snakemake
sees it (the failing-job test took 41 s with the back-off, 18 s without; the time-limit test 174 s and 115 s).
Only how long the plugin sleeps between checks changes; what it asks SLURM and does with the answer is its own.

    python tests/slurm_snakemake.py <snakemake arguments>
"""

import asyncio
import sys

from snakemake.cli import main
from snakemake_executor_plugin_slurm import Executor

POLL_S = 2


async def sleep_at_most_poll_s(self):
    await asyncio.sleep(min(self.next_seconds_between_status_checks, POLL_S))


if __name__ == "__main__":
    Executor.sleep = sleep_at_most_poll_s
    sys.exit(main())
