"""Reports of runs and benchmarks: plots (training curves, attention maps),
Markdown tables and figures, flow fields in colour, and the FLOPs of a
Perceiver.

Plots need the `plotting` extra (matplotlib).
"""

from keras_perceiver.reports.flow_colors import flow_to_rgb
from keras_perceiver.reports.flow_colors import save_flow_image
from keras_perceiver.reports.flops import causal_lm_forward_flops
from keras_perceiver.reports.flops import perceiver_forward_flops
from keras_perceiver.reports.flops import training_step_flops
from keras_perceiver.reports.plotting import plot_attention_maps
from keras_perceiver.reports.plotting import plot_training_curves
from keras_perceiver.reports.plotting import read_history
from keras_perceiver.reports.tables import format_number
from keras_perceiver.reports.tables import markdown_table
from keras_perceiver.reports.tables import new_figure
from keras_perceiver.reports.tables import save_figure

__all__ = [
    "causal_lm_forward_flops",
    "flow_to_rgb",
    "format_number",
    "markdown_table",
    "new_figure",
    "perceiver_forward_flops",
    "plot_attention_maps",
    "plot_training_curves",
    "read_history",
    "save_figure",
    "save_flow_image",
    "training_step_flops",
]
