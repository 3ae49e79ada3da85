"""Models: backbones, task-conditioned models (one registry), black-box meta-learners."""
