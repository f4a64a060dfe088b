"""Where mixed precision stops: the few computations kept in fp32 under autocast.

``--amp`` runs the networks under ``torch.autocast`` (bf16, or fp16 with loss
scaling). Three parts of a GAN step are numerically fragile in 16 bits and
cheap in 32, so they leave the autocast region (``full_precision``) and cast
their inputs with ``.float()``:

- the spectral-norm power iteration (``FullPrecisionSpectralNorm``): under
  CUDA autocast ``torch.mv`` runs in fp16, and the singular-vector estimates
  ``u, v`` are running state; rounding them every step drifts sigma, which
  scales every weight of G and D;
- the BatchNorm statistics (``FrameBatchNorm``): means and variances over
  B * H * W values, and the running statistics sampling depends on;
- the hinge loss (``GeometricHingeLoss``): a mean of (B, N) scores, where a
  bf16 sum loses the small differences the gradients come from.
"""
from contextlib import contextmanager
from typing import Iterator

import torch


@contextmanager
def full_precision(device_type: str) -> Iterator[None]:
    """Disable autocast on ``device_type`` for a while (a no-op outside it).

    Casting is the caller's: autocast off only stops the *casting* of ops, so
    a bf16 input stays bf16 unless it is ``.float()``-ed.
    """
    with torch.autocast(device_type=device_type, enabled=False):
        yield
