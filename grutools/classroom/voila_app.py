"""Voilà as ``grutools serve`` runs it: Voilà's own app, with its responses compressed.

Voilà builds its Tornado application without ``compress_response`` and applies its
``tornado_settings`` only after the application exists, when Tornado no longer reads
that setting. A first visit to a dashboard then pulled about 15 MB of uncompressed
JavaScript, CSS and HTML: 450 MB for a class of 30 on one classroom Wi-Fi. This app
adds Tornado's gzip transform to Voilà's application (HTML, JavaScript, CSS, JSON and
other text over 1 kB; images and fonts are already compressed), which cuts those bytes
3-5 times. It also comes back clean after a hard kill: each server marks its folder of
kernel connection files with its process id, and a new server removes the folders of
servers that are gone (a killed server never runs its own clean-up; ``grutools serve``
removes the folder of a server it had to kill). Its kernels end
with it by themselves (ipykernel watches ``JPY_PARENT_PID``), and its folder goes after its kernels.
It serves the teacher's page (:mod:`.teacher`) where ``$GRUTOOLS_TALLY`` names the class's tally.
Everything else is Voilà's, settings (``voila.json``) included.

Run it as ``python -m grutools.classroom.voila_app NOTEBOOKS [voila options]``.
"""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

from jupyter_core.utils import run_sync
from tornado.web import GZipContentEncoding
from voila.app import Voila

from ..core.tally import TALLY, Tally, TallyError
from .serve import OWNER, child_processes, end_processes, remove_stale_connection_folders
from .teacher import teacher_handlers, teacher_token


class CompressedVoila(Voila):
    """Voilà with gzip-compressed HTTP responses (see the module's docstring)."""

    def initialize(self, argv=None):
        super().initialize(argv)
        # Voilà stops cleanly (its kernels shut down) on SIGTERM; a closed terminal's SIGHUP would kill it on the spot
        signal.signal(signal.SIGHUP, self._handle_signal_stop)

    def init_handlers(self):
        # called by Voila.start() once self.app exists, before it listens: the transform applies to every request
        if GZipContentEncoding not in self.app.transforms:
            self.app.transforms.append(GZipContentEncoding)
        (Path(self.connection_dir) / OWNER).write_text(str(os.getpid()))
        for folder in remove_stale_connection_folders(Path(self.connection_dir_root)):
            self.log.info("grutools: removed %s, left by a server that was killed", folder)
        return self._teacher_handlers() + super().init_handlers()

    def _teacher_handlers(self) -> list:
        """The teacher's page, where the server keeps a tally of the class's predictions (``$GRUTOOLS_TALLY``)."""
        path = os.environ.get(TALLY)
        if not path:
            return []
        try:
            tally = Tally(path)
            return teacher_handlers(self.server_url, tally, teacher_token(path))
        except (TallyError, OSError) as error:
            self.log.error("grutools: no teacher's page: %s", error)
            return []

    def stop(self):
        # Voila removes its connection folder first, then shuts its kernels down. A kernel still starting then
        # wrote its connection file into a new folder of the same name (ipykernel writes the file it does not
        # find), left behind for good; and shutdown_all can fail on a kernel still pending (HTTP 404), leaving
        # it to end on its own. Here: the kernels, then any kernel process still running, then the folder.
        try:
            run_sync(self.kernel_manager.shutdown_all)()
        except Exception:  # the server is stopping: end the kernels below anyway
            self.log.warning("grutools: shutting the kernels down failed; ending their processes", exc_info=True)
        finally:
            end_processes(child_processes(os.getpid()))
            shutil.rmtree(self.connection_dir, ignore_errors=True)


main = CompressedVoila.launch_instance

if __name__ == "__main__":
    main()
