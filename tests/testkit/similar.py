"""Answers for the similarity report's checks (tests/course/test_similarity.py): a renamed and
reordered copy of the instructor's MMoE, the library's uncertainty weighting pasted into the part,
and honest answers of four parts written independently of the instructor's."""

# the instructor's MMoE, renamed and reordered
MMOE_RENAMED = """class MMoEModel(nn.Module):
    def __init__(self, *, in_features, out_features, num_tasks, num_experts=4, hidden=32):
        super().__init__()
        self.heads = nn.ModuleList(nn.Linear(hidden, out_features) for _ in range(num_tasks))
        self.routers = nn.ModuleList(nn.Linear(in_features, num_experts) for _ in range(num_tasks))
        self.pool = nn.ModuleList(
            nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU()) for _ in range(num_experts)
        )

    def shared_parameters(self):
        return list(self.pool.parameters())

    def forward(self, inputs, tid):
        outs = torch.stack([e(inputs) for e in self.pool], dim=1)
        blend = (self.gate_weights(inputs, tid)[:, :, None] * outs).sum(dim=1)
        result = blend.new_zeros(inputs.shape[0], self.heads[0].out_features)
        for t, head in enumerate(self.heads):
            sel = tid == t
            result[sel] = head(blend[sel])
        return result

    def gate_weights(self, inputs, tid):
        scores = torch.stack([r(inputs) for r in self.routers], dim=1)
        own = scores[torch.arange(inputs.shape[0]), tid]
        return torch.softmax(own, dim=-1)
"""

# the library's uncertainty weighting, pasted into the part
UNCERTAINTY_LIBRARY = """class MyUncertaintyWeighting(LossWeighting):
    def __init__(self, *, num_tasks):
        super().__init__(num_tasks=num_tasks)
        self.kinds = ["regression"] * self.num_tasks
        self.factor = torch.tensor([0.5 if k == "regression" else 1.0 for k in self.kinds])
        self.log_variance = torch.zeros(num_tasks, requires_grad=True)

    def parameters(self):
        return [self.log_variance]

    def loss_weights(self, losses):
        self.check_losses(losses)
        return (
            (self.factor.to(losses.device) * torch.exp(-self.log_variance))
            .detach()
            .to(losses.dtype)
        )

    def objective(self, losses):
        s = self.log_variance
        return (self.factor.to(losses.device) * torch.exp(-s) * losses + 0.5 * s).sum()
"""

# honest answers of the same parts, written independently
HONEST = {
    "multihead": """class MultiHeadModel(nn.Module):
    def __init__(self, *, in_features, out_features, num_tasks, hidden=64):
        super().__init__()
        layers = [nn.Linear(in_features, hidden), nn.ReLU()]
        layers += [nn.Linear(hidden, hidden), nn.ReLU()]
        self.shared = nn.Sequential(*layers)
        self.task_heads = nn.ModuleList()
        for _ in range(num_tasks):
            self.task_heads.append(nn.Linear(hidden, out_features))

    def forward(self, x, task_id):
        z = self.shared(x)
        every = torch.stack([head(z) for head in self.task_heads])  # (T, B, O)
        return every[task_id, torch.arange(len(x))]

    def shared_parameters(self):
        return [p for p in self.shared.parameters()]
""",
    "uncertainty": """class MyUncertaintyWeighting(LossWeighting):
    def __init__(self, *, num_tasks):
        super().__init__(num_tasks=num_tasks)
        self.s = torch.zeros(num_tasks)
        self.s.requires_grad_(True)

    def parameters(self):
        return [self.s]

    def loss_weights(self, losses):
        with torch.no_grad():
            return torch.exp(-self.s) / 2

    def objective(self, losses):
        precision = torch.exp(-self.s)
        total = 0.0
        for i in range(len(losses)):
            total = total + precision[i] * losses[i] / 2 + self.s[i] / 2
        return total
""",
    "mmoe": """class MMoEModel(nn.Module):
    def __init__(self, *, in_features, out_features, num_tasks, num_experts=4, hidden=32):
        super().__init__()
        self.expert_layer = nn.Linear(in_features, num_experts * hidden)
        self.num_experts, self.hidden = num_experts, hidden
        self.gate_layer = nn.Linear(in_features, num_tasks * num_experts)
        self.num_tasks = num_tasks
        self.tower_list = nn.ModuleList([nn.Linear(hidden, out_features) for t in range(num_tasks)])

    def gate_weights(self, x, task_id):
        g = self.gate_layer(x).view(len(x), self.num_tasks, self.num_experts)
        g = g.gather(1, task_id.view(-1, 1, 1).expand(-1, 1, self.num_experts)).squeeze(1)
        return g.softmax(-1)

    def forward(self, x, task_id):
        e = torch.relu(self.expert_layer(x)).view(len(x), self.num_experts, self.hidden)
        mix = torch.einsum("be,beh->bh", self.gate_weights(x, task_id), e)
        y = torch.stack([tower(mix) for tower in self.tower_list], dim=1)
        return y[torch.arange(len(x)), task_id]

    def shared_parameters(self):
        return list(self.expert_layer.parameters())
""",
    "film": """class FiLMModel(nn.Module):
    def __init__(self, *, in_features, out_features, num_tasks, hidden=64):
        super().__init__()
        self.fc = nn.ModuleList([nn.Linear(in_features, hidden), nn.Linear(hidden, hidden)])
        self.head = nn.Linear(hidden, out_features)
        self.scale = nn.Parameter(torch.ones(2, num_tasks, hidden))
        self.shift = nn.Parameter(torch.zeros(2, num_tasks, hidden))

    def forward(self, x, task_id):
        for i, layer in enumerate(self.fc):
            x = F.relu(layer(x) * self.scale[i, task_id] + self.shift[i, task_id])
        return self.head(x)

    def task_parameters(self):
        return [self.scale, self.shift]

    def shared_parameters(self):
        task = {id(p) for p in self.task_parameters()}
        return [p for p in self.parameters() if id(p) not in task]
""",
}

# the honest FiLM above (an earlier term's), renamed
FILM_RENAMED = """class FiLMModel(nn.Module):
    def __init__(self, *, in_features, out_features, num_tasks, hidden=64):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(in_features, hidden), nn.Linear(hidden, hidden)])
        self.out = nn.Linear(hidden, out_features)
        self.g = nn.Parameter(torch.ones(2, num_tasks, hidden))
        self.b = nn.Parameter(torch.zeros(2, num_tasks, hidden))

    def forward(self, x, task_id):
        for k, block in enumerate(self.blocks):
            x = F.relu(block(x) * self.g[k, task_id] + self.b[k, task_id])
        return self.out(x)

    def task_parameters(self):
        return [self.g, self.b]

    def shared_parameters(self):
        task = {id(p) for p in self.task_parameters()}
        return [p for p in self.parameters() if id(p) not in task]
"""
