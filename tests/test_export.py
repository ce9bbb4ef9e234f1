"""The static export: one HTML page per dashboard, interactive plots, no kernel, nothing from the internet."""

import json
import re

import pytest

from grutools.classroom.export import export, markdown_html, run_cells, widget_html
from grutools.cli import main


def test_run_cells_shows_each_cells_last_expression_like_a_notebook():
    namespace = {}
    shown = list(run_cells(["a = 2\na + 1", "b = a * 5", "b"], namespace))
    assert shown == [3, None, 10]


def test_widgets_keep_figures_and_text_and_drop_controls():
    import ipywidgets as widgets
    import plotly.graph_objects as go

    figure = go.FigureWidget(go.Figure(go.Scatter(x=[1, 2], y=[3, 4], name="GRU")))
    box = widgets.HBox([widgets.VBox([widgets.IntSlider(description="steps"), widgets.Button(description="Train")]),
                        widgets.VBox([widgets.HTML("<b>findings</b>"), figure])])
    page = widget_html(box)
    assert "<b>findings</b>" in page and "Plotly.newPlot" in page and '"GRU"' in page
    assert "steps" not in page and "Train" not in page


def test_markdown_links_to_notebooks_point_to_pages():
    assert 'href="01_gru_cell.html"' in markdown_html("[one step](01_gru_cell.ipynb)")


def test_export_writes_self_contained_pages(tmp_path):
    pages = export(tmp_path, ["01_gru_cell.ipynb", "05_memory_timescales.ipynb"], progress=False)
    assert [p.name for p in pages] == ["01_gru_cell.html", "05_memory_timescales.html"]
    assert (tmp_path / "plotly.min.js").stat().st_size > 1_000_000
    assert (tmp_path / "index.html").read_text() == pages[0].read_text()
    for page in pages:
        text = page.read_text()
        assert "<script src='plotly.min.js'></script>" in text
        assert not re.search(r"""(src|href)=["']https?://""", text), "a page loads something from the internet"
        figures = re.findall(r'Plotly\.newPlot\(\s*"[^"]+",\s*(\[.*?\]),\s*\{', text, flags=re.S)
        assert len(figures) >= 2 and all(json.loads(data) for data in figures)  # plots with data in them
        assert "Things to try" in text and "the sliders, buttons" in text


def test_export_names_a_missing_notebook(tmp_path):
    with pytest.raises(FileNotFoundError, match="no_such.ipynb"):
        export(tmp_path, ["no_such.ipynb"], progress=False)


def test_cli_export(tmp_path, capsys):
    assert main(["export", "00_welcome.ipynb", "--out", str(tmp_path), "--quiet"]) == 0
    assert (tmp_path / "00_welcome.html").exists() and "Wrote 1 pages" in capsys.readouterr().out


def test_the_rivals_dashboard_exports_its_study_and_costs(tmp_path):
    [page] = export(tmp_path, ["07_rivals.ipynb"], progress=False)
    text = page.read_text()
    figures = re.findall(r'Plotly\.newPlot\(\s*"[^"]+",\s*(\[.*?\]),\s*\{', text, flags=re.S)
    assert len(figures) >= 4  # the race's empty axes, the study, cost against length, streaming
    assert "Bai et al. 2018" in text and "What the shipped numbers say" in text
    # no question nobody could commit to, and nothing kept behind one
    assert "Predict, then check" not in text and "commit your prediction first" not in text


def test_the_training_with_care_dashboard_exports_its_grid_and_checklist(tmp_path):
    [page] = export(tmp_path, ["08_training_with_care.ipynb"], progress=False)
    text = page.read_text()
    figures = re.findall(r'Plotly\.newPlot\(\s*"[^"]+",\s*(\[.*?\]),\s*\{', text, flags=re.S)
    assert len(figures) >= 4  # preparation, the grid's heatmaps, the monitor's panels, the shift
    assert "What the shipped grid says" in text and "For your own project" in text and "Greff" in text


def test_a_gru_hears_exports_its_figures_and_a_recording_that_plays_from_the_page(tmp_path):
    [page] = export(tmp_path, ["09_gru_hears.ipynb"], progress=False)
    text = page.read_text()
    figures = re.findall(r'Plotly\.newPlot\(\s*"[^"]+",\s*(\[.*?\]),\s*\{', text, flags=re.S)
    assert len(figures) >= 5  # the recording's five rows, the confusion matrix, accuracy, the two studies
    assert re.search(r'<audio controls aria-label="the recording" src="data:audio/wav;base64,UklGR', text)  # RIFF
    assert "What the shipped runs show" in text and "Where it goes wrong" in text


def test_a_gru_reads_exports_its_coloured_text_and_figures(tmp_path):
    [page] = export(tmp_path, ["10_gru_reads.ipynb"], progress=False)
    text = page.read_text()
    assert 'class="grutools-text"' in text and re.search(r'<span style="background:rgb\([^"]+\)" title="', text)
    assert "follow none of the five built-in patterns" in text and "What the shipped runs show" in text
    figures = re.findall(r'Plotly\.newPlot\(\s*"[^"]+",\s*(\[.*?\]),\s*\{', text, flags=re.S)
    assert len(figures) >= 5
