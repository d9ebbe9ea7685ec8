"""The shared Markdown table and figure helpers."""

import pytest

from keras_perceiver.reports import tables

pytestmark = pytest.mark.backend_independent


def test_markdown_table_has_a_header_a_separator_and_a_line_per_row():
    table = tables.markdown_table(["N", "accuracy"], [[32, "0.95"],
                                                         [64, None]])
    assert table.splitlines() == ["| N | accuracy |", "|---|---|",
                                  "| 32 | 0.95 |", "| 64 | None |"]


def test_format_number_writes_missing_values_as_a_dash():
    assert tables.format_number(0.12345, ".1%") == "12.3%"
    assert tables.format_number(None) == "–"
    assert tables.format_number(None, missing="") == ""


def test_a_figure_is_written_as_a_png_of_its_size(tmp_path):
    image = pytest.importorskip("PIL.Image")
    figure = tables.new_figure(4, 3, "A test plot")
    figure.subplots().plot([1, 2, 3], [3, 1, 2])
    tables.save_figure(figure, tmp_path / "plot.png")
    with image.open(tmp_path / "plot.png") as png:
        assert png.format == "PNG"
        assert png.size == (4 * tables.DPI, 3 * tables.DPI)
