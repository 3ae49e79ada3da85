"""The workbook's experiments as library functions, shared by notebooks, explorers and configs.

* :mod:`.negative_transfer`: the MMoE paper's correlated tasks and the four models compared on them;
* :mod:`.conditioning`: a conditioning choice trained on related sinusoids;
* :mod:`.recorders`: ``fit`` callbacks that record gradient cosines and task affinities.
"""

from .recorders import AffinityRecorder, GradientCosineRecorder
from .sinusoid_conditioning import SinusoidRun, fit_related_sinusoids

__all__ = ["SinusoidRun", "fit_related_sinusoids", "GradientCosineRecorder", "AffinityRecorder"]
