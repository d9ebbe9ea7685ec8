"""The shared Markdown table and figure helpers."""

import pytest

from keras_perceiver import reporting

pytestmark = pytest.mark.backend_independent


def test_markdown_table_has_a_header_a_separator_and_a_line_per_row():
    table = reporting.markdown_table(["N", "accuracy"], [[32, "0.95"],
                                                         [64, None]])
    assert table.splitlines() == ["| N | accuracy |", "|---|---|",
                                  "| 32 | 0.95 |", "| 64 | None |"]


def test_format_number_writes_missing_values_as_a_dash():
    assert reporting.format_number(0.12345, ".1%") == "12.3%"
    assert reporting.format_number(None) == "–"
    assert reporting.format_number(None, missing="") == ""


def test_a_figure_is_written_as_a_png_of_its_size(tmp_path):
    image = pytest.importorskip("PIL.Image")
    figure = reporting.new_figure(4, 3, "A test plot")
    figure.subplots().plot([1, 2, 3], [3, 1, 2])
    reporting.save_figure(figure, tmp_path / "plot.png")
    with image.open(tmp_path / "plot.png") as png:
        assert png.format == "PNG"
        assert png.size == (4 * reporting.DPI, 3 * reporting.DPI)
