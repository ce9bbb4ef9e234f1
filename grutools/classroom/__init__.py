"""Serving the dashboards to a class: the kernel manager, ``grutools serve``, the Voilà app and template, the hub, export.

- :mod:`.kernels`: :class:`ClassroomKernelManager` (named in ``voila.json``): a cap, one torch thread, refills in turn;
- :mod:`.pools`: its care of Voilà's pre-heated pools: ready kernels first, dead ones replaced, failed refills dropped;
- :mod:`.serve`: the command that serves the notebooks (``grutools serve``, ``grutools lab``);
- :mod:`.voila_app`: Voilà as ``grutools`` runs it;
- :mod:`.template`: the ``grulab`` Voilà template and plotly's widget bundle beside it;
- :mod:`.hub`: JupyterHub settings;
- :mod:`.export`: the dashboards as static HTML.
"""

from ..apps.limits import limit_memory, limit_torch_threads  # the kernel's side of the same settings

__all__ = ["ClassFull", "ClassroomKernelManager", "limit_memory", "limit_torch_threads"]


def __getattr__(name: str):
    """The kernel manager on first use (``voila.json`` names ``grutools.classroom.ClassroomKernelManager``):
    a dashboard kernel imports :mod:`.limits` and should not pay for Jupyter's server."""
    if name in ("ClassFull", "ClassroomKernelManager"):
        from . import kernels

        return getattr(kernels, name)
    raise AttributeError(f"module 'grutools.classroom' has no attribute {name!r}")
