"""A PyTorch DDP training script as people write it: run unchanged by `mpirun -n 2
chainrule run` (torch names resolve to chainrule's)."""
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

dist.init_process_group(backend="gloo")
rank = dist.get_rank()
torch.manual_seed(0)
x = torch.randn(256, 10)
y = (x.sum(1) > 0).long()
dataset = TensorDataset(x, y)
sampler = DistributedSampler(dataset)
loader = DataLoader(dataset, batch_size=32, sampler=sampler)
model = DDP(nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 2)))
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
for epoch in range(5):
    sampler.set_epoch(epoch)
    total = torch.zeros(1)
    for xb, yb in loader:
        loss = F.cross_entropy(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.detach()
    dist.all_reduce(total, op=dist.ReduceOp.SUM)
    if rank == 0:
        print(f"epoch {epoch} loss {total.item() / (len(loader) * dist.get_world_size()):.4f}")
dist.destroy_process_group()
