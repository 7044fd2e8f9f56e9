"""Performance of AI workloads on candidate systems: training and inference estimates, the
parallelism search and validation against published measurements. See :mod:`rackforge.perf.api`.
"""

from rackforge.perf.api import (
    InferenceEvaluation,
    LayoutEstimate,
    TrainingEvaluation,
    TrainingOptions,
    estimate_training,
    evaluate_inference,
    evaluate_training,
    get_system,
    training_context,
)
from rackforge.perf.inference import Serving
from rackforge.perf.workload import Workload, counts, get_workload, load_workloads

__all__ = ["InferenceEvaluation", "LayoutEstimate", "Serving", "TrainingEvaluation",
           "TrainingOptions", "Workload", "counts", "estimate_training", "evaluate_inference",
           "evaluate_training", "get_system", "get_workload", "load_workloads",
           "training_context"]
