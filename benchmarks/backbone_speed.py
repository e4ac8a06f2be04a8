"""Per-sample training and forward cost of candidate KF32 backbones, one torch thread.

    .venv/bin/python benchmarks/backbone_speed.py [NAME ...]

Run two copies at once to see whether two single-threaded trainings share the 2 cores
without slowing each other (docs/performance.md, "The KF32 benchmark backbones").
"""

import sys
import time

import torch

from rollflow.nets import UNetConfig, build_network, count_parameters
torch.set_num_threads(1)
C=lambda **k: UNetConfig(window_encoding="channels", embedding_dim=128, **k)
cfgs = {
 "frames16": UNetConfig(window_encoding="frames", base_channels=16, channel_multipliers=(1,2,4,8), embedding_dim=128),
 "c32_1244": C(base_channels=32, channel_multipliers=(1,2,4,4)),
 "c32_1224": C(base_channels=32, channel_multipliers=(1,2,2,4)),
 "c48_1224": C(base_channels=48, channel_multipliers=(1,2,2,4)),
 "c32_1244_b2": C(base_channels=32, channel_multipliers=(1,2,4,4), blocks_per_level=2),
 "c24_1248": C(base_channels=24, channel_multipliers=(1,2,4,8)),
 "c64_1222": C(base_channels=64, channel_multipliers=(1,1,2,2)),
}
B=8
for name in sys.argv[1:] or cfgs:
    net = build_network(cfgs[name], 6)
    opt = torch.optim.AdamW(net.parameters(), 1e-4)
    x = torch.randn(B,6,32,32); l = torch.randn(B,6); c = torch.zeros(B,6,dtype=torch.bool); c[:,:2]=True
    ts=[]
    for i in range(6):
        t=time.perf_counter(); out=net(x,l,c); out.square().mean().backward(); opt.step(); opt.zero_grad(); ts.append(time.perf_counter()-t)
    with torch.no_grad():
        net.eval(); t=time.perf_counter()
        for i in range(5): net(x,l,c)
        fw=(time.perf_counter()-t)/5
    ts=sorted(ts[1:])
    print(f"{name}: {count_parameters(net)/1e6:.2f}M params, train {ts[len(ts)//2]/B*1e3:.1f} ms/sample, fwd {fw/B*1e3:.1f} ms/sample", flush=True)
