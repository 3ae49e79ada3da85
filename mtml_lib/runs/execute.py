"""Running a checked config: train (data-parallel under ``torchrun``), evaluate on rank 0,
write ``results.json`` beside the checkpoint.

Example:
    >>> from mtml_lib.runs import parse_config
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     config = parse_config({"learner": {"name": "cnp_regression", "hidden": 8},
    ...                            "data": {"dataset": "sinusoid"}, "episodes": {"batch_size": 4},
    ...                            "train": {"steps": 3, "eval_every": 0, "test_episodes": 8,
    ...                                      "checkpoint_dir": folder}})
    ...     results = run_meta(config, progress=False)
    >>> results["steps"], results["test"]["episodes"]
    (3, 8)
"""

from __future__ import annotations

import json
import pathlib
import time
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

import torch

from .. import distributed
from ..training import fit, meta_test, meta_train
from . import meta_run, multitask_run

__all__ = ["run_meta", "run_multitask", "summary"]


@contextmanager
def _run(config):
    """The process group, the output folder and a results dict with what every run reports."""
    with distributed.process_group(config.device) as (ctx, device):
        folder = pathlib.Path(config.checkpoint_dir)
        if ctx.is_main:
            folder.mkdir(parents=True, exist_ok=True)
        results: dict[str, Any] = {
            "config": asdict(config),
            "world_size": ctx.world_size,
            "device": device.type,
            "began": time.perf_counter(),
        }
        yield ctx, device, folder, results
        if ctx.is_main:
            results["wall_seconds"] = round(time.perf_counter() - results.pop("began"), 3)
            (folder / "results.json").write_text(
                json.dumps(results, indent=2) + "\n", encoding="utf-8"
            )


def run_meta(config: meta_run.MetaRunConfig, *, progress: bool = True) -> dict | None:
    """Meta-train (data-parallel under ``torchrun``), meta-test on rank 0, write ``results.json``.

    Returns the results on rank 0 (None on the other ranks).
    """
    with _run(config) as (ctx, device, folder, results):
        learner = meta_run.build_learner(config)
        sampler = meta_run.build_sampler(
            config, "train", device=device, generator=config.seed + ctx.rank
        )
        validate = ctx.is_main and config.eval_every > 0
        val_seed = config.seed + meta_run.VAL_STREAM
        val_sampler = (
            meta_run.build_sampler(config, "val", device=device, generator=val_seed)
            if validate
            else None
        )
        options = meta_run.train_config(
            config,
            folder / "checkpoint.pt",
            device=device,
            progress=progress,
            description=f"{config.learner} x{ctx.world_size}",
        )
        history = meta_train(
            learner,
            sampler,
            options,
            generator=config.seed + meta_run.LEARNER_STREAM + ctx.rank,
            eval_sampler=val_sampler,
        )
        if not ctx.is_main:
            return None
        results.update(
            {
                "episodes_per_step": config.batch_size * ctx.world_size,
                "steps": history.steps,
                "train_seconds": round(history.seconds, 3),
                "final_train_loss": float(history.losses[-20:].mean()),
                "metric": history.metric_name,
                "best_step": history.best_step,
                "eval": {"steps": history.eval_steps, "means": history.eval_metrics},
            }
        )
        if config.test_episodes:
            test_sampler = meta_run.build_sampler(
                config,
                "test",
                device=device,
                generator=config.seed + meta_run.TEST_STREAM,
                batch_size=min(config.test_episodes, 200),
            )
            mean, half = meta_test(
                learner, test_sampler, episodes=config.test_episodes, use_autocast=config.autocast
            )
            results["test"] = {"mean": mean, "half_width": half, "episodes": config.test_episodes}
    return results


def run_multitask(config: multitask_run.MultiTaskConfig, *, progress: bool = True) -> dict | None:
    """Train (data-parallel under ``torchrun``), evaluate on rank 0, write ``results.json``.

    Returns the results on rank 0 (None on the other processes).
    """
    with _run(config) as (ctx, device, folder, results):
        train, test = multitask_run.build_data(config, device)
        model = multitask_run.build_model(config, train)
        # the model's own randomness (dropout): each process its own
        torch.manual_seed(config.seed + ctx.rank)
        weighting = multitask_run.build_weighting(config, train)
        options = multitask_run.train_config(
            config,
            folder / "checkpoint.pt",
            device=device,
            progress=progress,
            description=f"{config.model} + {config.weighting} x{ctx.world_size}",
        )
        history = fit(
            model, train, weighting, options, generator=config.seed + ctx.rank, eval_data=test
        )
        if not ctx.is_main:
            return None
        results.update(
            {
                "examples_per_step": config.batch_size
                * (config.tasks_per_step or train.num_tasks)
                * ctx.world_size,
                "steps": history.steps,
                "train_seconds": round(history.seconds, 3),
                "task_names": history.task_names,
                "metric_names": history.metric_names,
                "final_train_losses": _recent_losses(history),
                "eval": {"steps": history.eval_steps, "metrics": history.eval_metrics},
                "test": history.final_metrics,
            }
        )
    return results


def _recent_losses(history, window: int = 20) -> list[float]:
    """Each task's mean training loss over the last ``window`` steps that drew it."""
    recent, drawn = history.losses[-window:], history.sampled[-window:].float()
    return ((recent * drawn).sum(0) / drawn.sum(0).clamp_min(1)).tolist()


def summary(config: meta_run.MetaRunConfig | multitask_run.MultiTaskConfig, results: dict) -> str:
    """One line saying what a run did and how it scored (what ``mtml train`` prints)."""
    seconds = results["train_seconds"]
    processes = f"({results['world_size']} process(es), {results['device']}) in {seconds:.1f} s"
    if isinstance(config, multitask_run.MultiTaskConfig):
        test = ", ".join(
            f"{task} {metric} {value:.4g}"
            for task, metric, value in zip(
                results["task_names"], results["metric_names"], results["test"], strict=True
            )
        )
        return (
            f"{config.model} + {config.weighting} on {config.family}: {results['steps']} steps x "
            f"{results['examples_per_step']} examples {processes}; held-out: {test}"
        )
    line = (
        f"{config.learner} on {config.dataset}: {results['steps']} steps x "
        f"{results['episodes_per_step']} "
        f"episodes {processes}"
    )
    if "test" in results:
        test, percent = results["test"], results["metric"] == "accuracy"
        scale, digits = (100, 1) if percent else (1, 4)
        line += (
            f"; meta-test {results['metric']} {scale * test['mean']:.{digits}f}"
            f" ± {scale * test['half_width']:.{digits}f} over {test['episodes']} episodes"
        )
    return line
