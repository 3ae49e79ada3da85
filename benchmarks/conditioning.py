"""One training step of T independent networks: the batched kernel against a Python loop.

Both sides train the same per-task architecture on 32 examples per task with the same loss and
the same optimiser (torch.optim.Adam with its defaults, as `mtml_lib.training.fit` uses it):
`get_conditioning("independent")` runs every task in one batched kernel; the baseline keeps
T separate `nn.Module`s and loops over them in Python. Two sizes the workbook uses:

* sinusoid net: 1 -> 40 -> 40 -> 1 (MAML's regression network), squared error;
* digits net: 64 -> 64 -> 64 -> 10 (notebook 02's digits tasks), cross-entropy.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mtml_lib.device import get_device
from mtml_lib.models.backbones import MLP
from mtml_lib.models.conditioning import get_conditioning

from ._timing import print_table, time_side_by_side

PER_TASK = 32
SIZES = {  # name: (in_features, hidden, out_features, loss)
    "sinusoid 1-40-40-1": (1, (40, 40), 1, "mse"),
    "digits 64-64-64-10": (64, (64, 64), 10, "cross_entropy"),
}


def _data(num_tasks: int, size: str, device: torch.device):
    in_features, _, out_features, loss = SIZES[size]
    g = torch.Generator().manual_seed(0)
    x = torch.randn(num_tasks * PER_TASK, in_features, generator=g)
    if loss == "mse":
        y = torch.randn(num_tasks * PER_TASK, out_features, generator=g)
    else:
        y = torch.randint(0, out_features, (num_tasks * PER_TASK,), generator=g)
    loss_fn = F.mse_loss if loss == "mse" else F.cross_entropy
    return x.to(device), y.to(device), loss_fn


def _step_batched(num_tasks: int, size: str, device: torch.device):
    in_features, hidden, out_features, _ = SIZES[size]
    model = get_conditioning(
        "independent",
        in_features=in_features,
        out_features=out_features,
        num_tasks=num_tasks,
        hidden=hidden,
    ).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y, loss_fn = _data(num_tasks, size, device)
    task_id = torch.arange(num_tasks, device=device).repeat_interleave(PER_TASK)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(x, task_id), y).backward()
        optimizer.step()

    return step


def _step_loop(num_tasks: int, size: str, device: torch.device):
    in_features, hidden, out_features, _ = SIZES[size]
    nets = nn.ModuleList(
        MLP(in_features=in_features, hidden=hidden, out_features=out_features)
        for _ in range(num_tasks)
    ).to(device)
    optimizer = torch.optim.Adam(nets.parameters(), lr=1e-3)
    x, y, loss_fn = _data(num_tasks, size, device)

    def step():
        optimizer.zero_grad(set_to_none=True)
        out = torch.cat([net(x[t * PER_TASK : (t + 1) * PER_TASK]) for t, net in enumerate(nets)])
        loss_fn(out, y).backward()
        optimizer.step()

    return step


def main(device: str = "auto") -> list[dict]:
    device = get_device(device)
    rows, results = [], []
    for size in SIZES:
        for num_tasks in (4, 16, 64):
            batched, loop = time_side_by_side(
                [_step_batched(num_tasks, size, device), _step_loop(num_tasks, size, device)],
                device=device,
            )
            results.append(
                {
                    "size": size,
                    "num_tasks": num_tasks,
                    "batched_s": batched,
                    "loop_s": loop,
                    "speedup": loop / batched,
                }
            )
            rows.append(
                [
                    size,
                    str(num_tasks),
                    f"{batched * 1e3:.2f}",
                    f"{loop * 1e3:.2f}",
                    f"{loop / batched:.1f}x",
                ]
            )
    print_table(
        f"Independent networks, one training step with Adam ({device.type}, "
        f"{torch.get_num_threads()} threads)",
        ["network", "tasks T", "batched ms", "loop ms", "loop / batched"],
        rows,
    )
    return results


if __name__ == "__main__":
    main()
