"""Dashboard 06, your own model: upload a model file and a CSV of sequences, and see the gate views on them."""

from __future__ import annotations

import ipywidgets as widgets

from ..core.models import TokenModel
from ..core.tasks import DATA_DIR
from ..yours.explore import Exploration
from ..yours.sequences import SequenceDataError, UserSequences
from ..yours.uploads import EmbeddedRecurrent, model_from_bytes, upload_limits
from .common import LABEL_STYLE, StatusLine, control_layout, friendly_error, guarded, panel_layout
from .explore import ModelExplorer
from .guard import protect
from .questions import Asking

EXAMPLE_MODEL = DATA_DIR / "checkpoints" / "adding_gru.pt"
EXAMPLE_CSV = DATA_DIR / "examples" / "adding_sequences.csv"


def _upload_content(upload: widgets.FileUpload) -> tuple[str, bytes] | None:
    """The (name, bytes) of a FileUpload's file, kept in the kernel's memory only."""
    if not upload.value:
        return None
    item = upload.value[0]
    return str(item["name"]), bytes(item["content"])


class YourModelDashboard(Asking, widgets.VBox):
    """Upload a model (a grutools file, or a state_dict with a GRU, LSTM or RNN inside) and a CSV of sequences.

    The files live only in this kernel's memory. Every wrong file gets a sentence and
    the page keeps working. :meth:`use_model` and :meth:`use_csv` are what the uploads
    call, and can be driven from Python.
    """

    def __init__(self, example: bool = True) -> None:
        limits = upload_limits()
        self.max_model = limits["max_model_mb"] * 2**20
        self.max_csv = limits["max_csv_mb"] * 2**20
        self.model_upload = widgets.FileUpload(accept=".pt,.pth,.bin", multiple=False, description="Model file",
                                               layout=widgets.Layout(width="300px"))
        self.csv_upload = widgets.FileUpload(accept=".csv,.txt", multiple=False, description="CSV of sequences",
                                             layout=widgets.Layout(width="300px"))
        self.sequence_id = widgets.Text(value="", placeholder="column that splits sequences", description="id column",
                                        style=LABEL_STYLE, layout=control_layout())
        self.example_button = widgets.Button(description="Try the example", icon="magic",
                                             tooltip="a GRU trained on the adding problem, and five of its sequences",
                                             layout=widgets.Layout(width="300px"))
        self.model_status = StatusLine(layout=control_layout())
        self.csv_status = StatusLine(layout=control_layout())
        self.views = widgets.VBox(layout=widgets.Layout(width="100%"))
        self.model = None
        self.data: UserSequences | None = None
        self._csv: tuple[str, bytes] | None = None
        self.explorer: ModelExplorer | None = None
        self.model_upload.observe(guarded(self.model_status)(lambda _: self._on_model()), names="value")
        self.csv_upload.observe(guarded(self.csv_status)(lambda _: self._on_csv()), names="value")
        self.sequence_id.observe(guarded(self.csv_status)(lambda _: self._csv and self.use_csv(*self._csv)),
                                 names="value")
        self.example_button.on_click(guarded(self.model_status)(lambda _: self.use_example()))
        panel = widgets.VBox([
            widgets.HTML("<b>1. Your model</b>"), self.model_upload, self.model_status,
            widgets.HTML("<b>2. Your sequences</b> (CSV: a header row, then one row per time step, one column per "
                         "feature)"), self.csv_upload, self.sequence_id, self.csv_status,
            widgets.HTML("<b>or</b>"), self.example_button,
        ], layout=panel_layout(width="100%"))
        super().__init__([panel, self.views], layout=widgets.Layout(width="100%"))
        protect(self, self.model_status)  # the panel, and the box the views go into (its children from the page too)
        self.model_status.info(f"A grutools save file, or torch.save(model.state_dict()) of a model with a GRU, LSTM "
                               f"or RNN inside, and its embedding if it reads token ids (at most "
                               f"{limits['max_model_mb']} MB).")
        self.csv_status.info(f"At most {limits['max_csv_mb']} MB. Name the column that separates sequences, if any.")
        if example:  # something to look at from the start; an upload replaces it
            self.use_example()

    # ------------------------------------------------------------------------------------------

    def _on_model(self) -> None:
        content = _upload_content(self.model_upload)
        if content:
            self.use_model(*content)

    def _on_csv(self) -> None:
        content = _upload_content(self.csv_upload)
        if content:
            self.use_csv(*content)

    def use_model(self, name: str, data: bytes) -> None:
        """Read an uploaded model file; on any problem, say what it is and keep what was there."""
        try:
            model, description = model_from_bytes(data, name=name, max_bytes=self.max_model)
        except (ValueError, OSError) as error:
            self.model_status.error(str(error))
            return
        self.model = model
        self.model_status.ok(f"{name}: {description}.")
        self._show()

    def use_csv(self, name: str, data: bytes) -> None:
        """Read an uploaded CSV (optionally split by the sequence-id column); on any problem, say what it is."""
        self._csv = (name, data)
        column = self.sequence_id.value.strip() or None
        try:
            self.data = UserSequences.from_csv(data, sequence_id=column, name=name, max_bytes=self.max_csv)
        except SequenceDataError as error:
            self.data = None
            self.csv_status.error(str(error))
            self.views.children = []
            return
        lengths = sorted({len(s) for s in self.data.sequences})
        self.csv_status.ok(f"{name}: {len(self.data)} sequence(s) of {lengths[0]}"
                           f"{f'-{lengths[-1]}' if len(lengths) > 1 else ''} steps, features "
                           f"{', '.join(self.data.feature_names)}.")
        self._show()

    def answer_after(self, names, view):
        """As :meth:`Asking.answer_after`; for this dashboard's own views (``self.views``) the hold is made in place,
        under the upload panel, which stays usable, and the dashboard itself is returned, to display."""
        held = super().answer_after(names, view)
        if view is not self.views:
            return held
        if held is not view:  # questions off: nothing is held, and the dashboard shows as it is
            self.children = (self.children[0], held)
        return self

    def use_example(self) -> None:
        """The shipped example: the GRU trained on the adding problem, and five adding-problem sequences."""
        self.sequence_id.value = "sequence"
        self.use_model(EXAMPLE_MODEL.name, EXAMPLE_MODEL.read_bytes())
        self.use_csv(EXAMPLE_CSV.name, EXAMPLE_CSV.read_bytes())

    def _show(self) -> None:
        if self.model is None or self.data is None:
            return
        try:
            data = self.data
            if isinstance(self.model, EmbeddedRecurrent):  # a text model: the CSV's one column is token ids
                data = data.as_tokens(self.model.embedding.num_embeddings)
            elif isinstance(self.model, TokenModel):  # a grutools token model (Exploration labels its tokens)
                data = data.as_tokens(self.model.vocab_size)
            self.explorer = ModelExplorer(Exploration(self.model, data))
        except SequenceDataError as error:
            self.csv_status.error(f"{self._csv[0] if self._csv else 'The sequences'}: {error}")
            self.views.children = []
            return
        except Exception as error:  # a model that fails on these sequences: say so, keep the page
            self.csv_status.error(f"The model could not run on {self._csv[0] if self._csv else 'these sequences'}: "
                                  f"{friendly_error(error)}")
            self.views.children = []
            return
        self.views.children = [self.explorer]
