r"""Black-box meta-learners: a network reads :math:`\mathcal{D}^{tr}_i` and predicts for
:math:`\mathcal{D}^{test}_i`.

Black-box adaptation writes the learner itself as a network:
:math:`\phi_i = f_\theta(\mathcal{D}^{tr}_i)`, then :math:`\hat y = g_{\phi_i}(x)` for every
query :math:`x`. Meta-training optimises :math:`\theta` over many tasks so that this
"learned learning" works on new ones. One registry, one call:

================ =====================================================================
name             what :math:`f_\theta` is
================ =====================================================================
lstm_memory      Santoro et al.'s model: images with their one-hot labels (query labels
                 zeroed) read in sequence by two stacked LSTMs; the memory is :math:`\phi_i`
cnp              conditional neural process for classification: encode (x, y) pairs, average
                 per class, score each query against each class representation
transformer      in-context learner: image features plus a label embedding, a transformer
                 over the support set and the queries (queries attend to the support and to
                 themselves, never to each other)
hypernetwork     a set encoder that outputs the weights of a linear head per class:
                 :math:`\phi_i` made explicit as parameters
cnp_regression   conditional neural process for regression (sinusoids): mean of encoded
                 context pairs, decoded to a Gaussian (mean and :math:`\sigma`) per target
================ =====================================================================

Every learner is a :class:`~mtml_lib.models.blackbox.learner.BlackBoxLearner`, one module each
(:mod:`.memory`, :mod:`.cnp`, :mod:`.transformer`, :mod:`.hypernetwork`). Classification
learners take an :class:`~mtml_lib.data.episodes.EpisodeBatch` and return query logits
``(B, N*Q, n_way)``; ``loss(episode)`` gives the meta-training loss (cross-entropy on the
queries only) and the accuracy of every episode. The regression learner takes a
:class:`~mtml_lib.data.episodes.RegressionEpisode`; its loss is the Gaussian negative
log-likelihood, its metric the squared error.

Example:
    >>> import torch
    >>> from mtml_lib.data.fewshot import FewShotDataset
    >>> from mtml_lib.data.episodes import EpisodeSampler
    >>> data = FewShotDataset(torch.rand(8, 4, 28, 28), alphabets=["a"] * 8)
    >>> sampler = EpisodeSampler(data, n_way=3, k_shot=1, n_query=2, batch_size=2, generator=0)
    >>> episode = sampler.sample()
    >>> learner = get_blackbox("transformer", n_way=3)
    >>> learner(episode).shape
    torch.Size([2, 6, 3])

References:
    Santoro et al., "Meta-Learning with Memory-Augmented Neural Networks", ICML 2016.
    Garnelo et al., "Conditional Neural Processes", ICML 2018.
    Mishra et al., "A Simple Neural Attentive Meta-Learner", ICLR 2018.
"""

from __future__ import annotations

from ..._validation import lookup
from .cnp import CNPClassifier, CNPRegressor
from .hypernetwork import HyperNetwork
from .learner import BlackBoxClassifier, BlackBoxLearner
from .memory import LSTMMemory
from .transformer import InContextTransformer

__all__ = [
    "BLACKBOX",
    "get_blackbox",
    "BlackBoxLearner",
    "BlackBoxClassifier",
    "LSTMMemory",
    "CNPClassifier",
    "InContextTransformer",
    "HyperNetwork",
    "CNPRegressor",
]

#: name -> class
BLACKBOX: dict[str, type[BlackBoxLearner]] = {
    "lstm_memory": LSTMMemory,
    "cnp": CNPClassifier,
    "transformer": InContextTransformer,
    "hypernetwork": HyperNetwork,
    "cnp_regression": CNPRegressor,
}


def get_blackbox(name: str, **options) -> BlackBoxLearner:
    """Build the black-box learner ``name`` (a key of :data:`BLACKBOX`).

    Args:
        name: ``lstm_memory``, ``cnp``, ``transformer``, ``hypernetwork`` or ``cnp_regression``.
        **options: the learner's own options: ``n_way`` for the classifiers (required), then
            ``hidden``, ``features``, ``layers``, ...

    Raises:
        ValueError: unknown ``name`` (the message lists the valid ones), a classifier without
            ``n_way``, or ``n_way`` given to the regression learner.
    """
    learner = lookup(BLACKBOX, name, family="black-box learner")
    classifier = issubclass(learner, BlackBoxClassifier)
    if classifier and options.get("n_way") is None:
        raise ValueError(
            f"`n_way` must be given for the classification learner {name!r}; got None."
        )
    if not classifier and "n_way" in options:
        raise ValueError(
            f"`n_way` is an option of the classification learners; {name!r} is a "
            f"{learner.task} learner; got n_way={options['n_way']!r}."
        )
    return learner(**options)
