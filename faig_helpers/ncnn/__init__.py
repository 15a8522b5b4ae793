"""Published models in ncnn format: the format as stored (:mod:`.format`) and its conversion to PyTorch models with
the published weights (:mod:`.convert`)."""
from .format import NcnnGraph, NcnnLayer, read_param, read_weights
from .convert import FAMILIES, is_ncnn, load_ncnn, ncnn_paths, ncnn_spec, ncnn_state_dict, run_ncnn

__all__ = ["NcnnLayer", "NcnnGraph", "read_param", "read_weights", "ncnn_paths", "is_ncnn", "ncnn_spec",
           "ncnn_state_dict", "load_ncnn", "run_ncnn", "FAMILIES"]
