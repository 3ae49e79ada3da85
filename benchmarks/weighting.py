"""Per-step cost of every weighting method relative to `equal`, at T = 2 and T = 8 tasks.

One training step of a multi-head model (64 -> 128 -> 128 shared trunk, one 10-way head per task,
32 examples per task): forward, `weighting.combine`, Adam step. All methods of one T are timed in
alternating rounds, so the ratios are measured side by side.

A second table times what the gradient combinations (PCGrad, MGDA, CAGrad) spend most on, each
task's gradient on the shared trunk: one batched backward pass (`is_grads_batched`, the library's
way) against one backward pass per task, side by side.
"""

from __future__ import annotations

import torch

from mtml_lib.data.digits import multitask_classification
from mtml_lib.data.multitask_data import MultiTaskDataset
from mtml_lib.device import get_device
from mtml_lib.grads import per_task_gradients, per_task_gradients_looped
from mtml_lib.models.conditioning import get_conditioning
from mtml_lib.training import task_losses
from mtml_lib.weighting import WEIGHTING, get_weighting, parameter_groups

from ._timing import print_table, time_side_by_side

HYPER = {"static": lambda t: {"weights": [1.0] * t}}


def _step(name: str, data: MultiTaskDataset, device: torch.device):
    torch.manual_seed(0)
    T = data.num_tasks
    model = get_conditioning(
        "multihead", in_features=64, out_features=10, num_tasks=T, hidden=(128, 128)
    ).to(device)
    method = get_weighting(name, num_tasks=T, **HYPER.get(name, lambda t: {})(T)).to(device)
    method.attach(data.tasks)
    optimizer = torch.optim.Adam([*model.parameters(), *method.parameters()], lr=1e-3)
    shared, task = parameter_groups(model)
    batch = data.batch(32, generator=0)

    def step():
        optimizer.zero_grad(set_to_none=True)
        method.combine(task_losses(model, data, batch), shared, task)
        optimizer.step()

    return step


def _gradients(how, data: MultiTaskDataset, device: torch.device):
    torch.manual_seed(0)
    model = get_conditioning(
        "multihead", in_features=64, out_features=10, num_tasks=data.num_tasks, hidden=(128, 128)
    ).to(device)
    shared, _ = parameter_groups(model)
    losses = task_losses(model, data, data.batch(32, generator=0))
    return lambda: how(losses, shared)


def gradient_rows(device: torch.device) -> list[dict]:
    """Per-task gradients, batched against looped, at T = 2, 8 and 16."""
    results = []
    for T in (2, 8, 16):
        data = MultiTaskDataset.sample(
            multitask_classification(num_tasks=T), 256, generator=0, device=device
        )
        batched, looped = time_side_by_side(
            [_gradients(h, data, device) for h in (per_task_gradients, per_task_gradients_looped)],
            device=device,
            rounds=20,
        )
        results.append({"num_tasks": T, "batched": batched, "looped": looped})
    print_table(
        f"Per-task gradients, shared trunk ({device.type}, {torch.get_num_threads()} threads)",
        ["tasks", "batched ms", "one pass per task ms", "looped / batched"],
        [
            [
                str(r["num_tasks"]),
                f"{r['batched'] * 1e3:.2f}",
                f"{r['looped'] * 1e3:.2f}",
                f"{r['looped'] / r['batched']:.1f}x",
            ]
            for r in results
        ],
    )
    return results


def main(device: str = "auto") -> list[dict]:
    device = get_device(device)
    results, rows = [], []
    names = list(WEIGHTING)
    for T in (2, 8):
        data = MultiTaskDataset.sample(
            multitask_classification(num_tasks=T), 256, generator=0, device=device
        )
        seconds = time_side_by_side(
            [_step(name, data, device) for name in names], device=device, rounds=10
        )
        base = seconds[names.index("equal")]
        for name, s in zip(names, seconds):
            results.append({"method": name, "num_tasks": T, "seconds": s, "ratio": s / base})
    by_key = {(r["method"], r["num_tasks"]): r for r in results}
    for name in names:
        two, eight = by_key[name, 2], by_key[name, 8]
        rows.append(
            [
                name,
                f"{two['seconds'] * 1e3:.2f}",
                f"{two['ratio']:.1f}x",
                f"{eight['seconds'] * 1e3:.2f}",
                f"{eight['ratio']:.1f}x",
                f"{eight['ratio'] / two['ratio']:.1f}",
            ]
        )
    print_table(
        f"Weighting methods, one training step ({device.type}, {torch.get_num_threads()} threads)",
        ["method", "T=2 ms", "vs equal", "T=8 ms", "vs equal", "growth of the ratio"],
        rows,
    )
    return results + gradient_rows(device)


if __name__ == "__main__":
    main()
