"""Widget apps, one per dashboard. They only wire controls to :mod:`grutools` and :mod:`grutools.plots`."""

from .limits import limit_memory, limit_torch_threads

limit_torch_threads()  # in a classroom kernel: one torch thread, so that one student's training starves no one
limit_memory()  # and a memory limit, so that a runaway kernel fails alone

from .welcome import TrainingDemo  # noqa: E402

__all__ = ["TrainingDemo"]

from .cell import GRUCellExplorer  # noqa: E402

__all__ += ["GRUCellExplorer"]

from .gates import GatesExplorer  # noqa: E402

__all__ += ["GatesExplorer"]

from .vanishing import GradientExplorer  # noqa: E402

__all__ += ["GradientExplorer"]

from .compare import ClaimsExplorer  # noqa: E402

__all__ += ["ClaimsExplorer"]

from .counting import CountingExplorer  # noqa: E402

__all__ += ["CountingExplorer"]

from .memory import MemoryExplorer  # noqa: E402

__all__ += ["MemoryExplorer"]

from .explore import ModelExplorer  # noqa: E402
from .yours import YourModelDashboard  # noqa: E402

__all__ += ["ModelExplorer", "YourModelDashboard"]

from .rivals import RivalsExplorer  # noqa: E402

__all__ += ["RivalsExplorer"]

from .care import CareExplorer  # noqa: E402

__all__ += ["CareExplorer"]

from .speech import SpeechExplorer  # noqa: E402

__all__ += ["SpeechExplorer"]

from .text import TextExplorer  # noqa: E402

__all__ += ["TextExplorer"]
