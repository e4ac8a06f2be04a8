"""rollflow.nets: torch backbones for the denoiser (periodic U-Net); never imports diffusion.

Network protocol: ``network(x (B, F, H, W), log_snr (B, F), is_context (B, F)) -> (B, F, H, W)``.
"""

from rollflow.nets.config import UNetConfig
from rollflow.nets.stacked import StackedUNet
from rollflow.nets.unet import PeriodicUNet, build_network, count_parameters

__all__ = ["UNetConfig", "PeriodicUNet", "StackedUNet", "build_network", "count_parameters"]
