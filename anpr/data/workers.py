"""Loader workers and the temporary folder: keep batches flowing when its path is long.

Loader worker processes hand batches back as shared memory, passing it through Unix sockets that
Python and torch create under the temporary folder. A socket address holds at most 107 bytes, so
with a long ``TMPDIR`` every handover fails (``AF_UNIX path too long``) and the workers hang. Then
the batches are loaded in the training process instead: slower, never stuck.
"""

from __future__ import annotations

import logging
import multiprocessing.util
import os

log = logging.getLogger(__name__)

SOCKET_PATH_LIMIT = 107  # bytes of a Unix socket address (sun_path) before its terminator
SOCKET_NAME_LENGTH = 18  # '/listener-' and 8 random characters, as multiprocessing names it


def sockets_fit_in_temp_dir() -> bool:
    """Whether multiprocessing's Unix sockets fit under this process's temporary folder."""
    return len(os.fsencode(multiprocessing.util.get_temp_dir())) + SOCKET_NAME_LENGTH <= SOCKET_PATH_LIMIT


def usable_workers(num_workers: int) -> int:
    """``num_workers``, or 0 (load in this process) where worker processes could not hand over batches."""
    if num_workers == 0 or sockets_fit_in_temp_dir():
        return num_workers
    log.warning(
        "The temporary folder's path (%s) is too long for the Unix sockets loader workers hand batches "
        "over with; loading in the training process instead (a TMPDIR under about 80 characters lets "
        "the %d worker(s) run)",
        multiprocessing.util.get_temp_dir(),
        num_workers,
    )
    return 0
