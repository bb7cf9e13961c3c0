"""Soft-to-hard vector quantization: product codebooks learned by annealed soft assignment.

The input is split into `groups` subvectors, each quantized to the nearest of
`codebook_size` centers of its own codebook. Training replaces the nearest-center
lookup by a softmax over negative squared distances and raises its inverse
temperature `beta` geometrically, so the soft assignment approaches the hard one.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from mshc.compress.base import (
    Codec,
    FloatArray,
    IntArray,
    Pairs,
    bits_for_count,
    pack_bits,
    unpack_bits,
)
from mshc.compress.threads import one_thread
from mshc.config import check_positive_int, check_seed, check_type

logger = logging.getLogger(__name__)

# Fewer fit vectors than this per center leave most centers fitted to one or two points.
MIN_VECTORS_PER_CENTER = 4
# Rows per chunk when computing all distances, to bound memory on large inputs.
CHUNK_ROWS = 4096
LOGIT_FLOOR = -60.0


def divisors(n: int) -> list[int]:
    """Return the divisors of `n` in ascending order."""
    return [i for i in range(1, n + 1) if n % i == 0]


class SoftToHardVQ(Codec):
    """Product vector quantizer whose codebooks are trained by soft-to-hard annealing.

    `beta` is dimensionless: the soft assignment of a subvector is
    softmax(-beta * squared distance / distortion), where distortion is the group's
    mean squared distance to the nearest center at initialization. So `beta=1` spreads
    weight over nearby centers, and `beta` near 100 is close to a hard assignment
    whatever the scale of the data.

    `fit_stats` after fit, all on the fit data:
      final_loss: soft reconstruction MSE per element over the last epoch.
      mse: mean squared L2 error per vector of decode(encode(x)).
      soft_hard_gap: mean squared L2 distance per vector between the soft decode at
        `beta_end` and the hard decode.
      agreement: mean soft weight at `beta_end` on the nearest center, i.e. how often a
        draw from the soft assignment equals the hard one. The soft argmax always equals
        the nearest center, so this measures how close to one-hot the softmax is.
      usage, min_usage: mean and minimum over groups of the fraction of centers used.
      perplexity: mean over groups of exp(entropy of the hard assignment histogram).
    """

    kind = "vq"

    def __init__(
        self,
        *,
        groups: int = 32,
        codebook_size: int = 256,
        beta_start: float = 1.0,
        beta_end: float = 100.0,
        epochs: int = 10,
        batch_size: int = 256,
        lr: float = 0.0005,
        usage_threshold: float = 0.5,
        seed: int = 0,
        key: str = "vq",
    ) -> None:
        super().__init__()
        self.key = key
        self.groups = int(check_positive_int(groups, f"{key}.groups") or 0)
        self.codebook_size = int(
            check_positive_int(codebook_size, f"{key}.codebook_size") or 0
        )
        if self.codebook_size < 2:
            raise ValueError(
                f"{key}.codebook_size={codebook_size} must be at least 2, so that a "
                f"code can tell centers apart"
            )
        self.beta_start = float(check_type(beta_start, float, f"{key}.beta_start"))
        self.beta_end = float(check_type(beta_end, float, f"{key}.beta_end"))
        if self.beta_start <= 0:
            raise ValueError(f"{key}.beta_start={beta_start} must be greater than 0")
        if self.beta_end < self.beta_start:
            raise ValueError(
                f"{key}.beta_end={beta_end} is below {key}.beta_start={beta_start}; "
                f"the schedule raises beta, so set beta_end >= beta_start"
            )
        self.epochs = int(check_positive_int(epochs, f"{key}.epochs") or 0)
        self.batch_size = int(check_positive_int(batch_size, f"{key}.batch_size") or 0)
        self.lr = float(check_type(lr, float, f"{key}.lr"))
        if self.lr <= 0:
            raise ValueError(f"{key}.lr={lr} must be greater than 0")
        self.usage_threshold = float(
            check_type(usage_threshold, float, f"{key}.usage_threshold")
        )
        if not 0.0 <= self.usage_threshold <= 1.0:
            raise ValueError(
                f"{key}.usage_threshold={usage_threshold} must be a fraction in [0, 1]"
            )
        self.seed = check_seed(seed, f"{key}.seed")
        # (groups, codebook_size, subvector dim), set by fit or load_state.
        self.codebooks: FloatArray | None = None

    def output_dim(self, input_dim: int) -> int:
        """Return `input_dim`: decoded vectors have the input's dimension."""
        return input_dim

    def bits_for(self, input_dim: int) -> int:
        """Return groups * ceil(log2(codebook_size)) bits."""
        return self.groups * bits_for_count(self.codebook_size)

    def check(self, n: int, input_dim: int, key: str) -> None:
        """Raise ValueError if `groups` does not divide `input_dim` or `n` is too small."""
        if input_dim % self.groups:
            raise ValueError(
                f"{key}.groups={self.groups} does not divide the input dimension "
                f"{input_dim}; choose one of its divisors: "
                f"{', '.join(map(str, divisors(input_dim)))}"
            )
        needed = MIN_VECTORS_PER_CENTER * self.codebook_size
        if n < needed:
            raise ValueError(
                f"{key}.codebook_size={self.codebook_size} needs at least {needed} fit "
                f"vectors ({MIN_VECTORS_PER_CENTER} per center), but got {n}; lower "
                f"{key}.codebook_size or fit on more vectors"
            )

    def fit(self, x: FloatArray, pairs: Pairs | None = None) -> SoftToHardVQ:
        """Learn the codebooks from `x` by soft-to-hard annealing. `pairs` is ignored."""
        with one_thread():
            return self._fit(x)

    def _fit(self, x: FloatArray) -> SoftToHardVQ:
        x = np.ascontiguousarray(x, dtype=np.float32)
        n, dim = x.shape
        self.check(n, dim, self.key)
        self.input_dim = dim
        torch.manual_seed(self.seed)
        generator = torch.Generator().manual_seed(self.seed)

        data = torch.from_numpy(x).view(n, self.groups, -1)
        init_rows = torch.randperm(n, generator=generator)[: self.codebook_size]
        codebooks = torch.nn.Parameter(data[init_rows].transpose(0, 1).clone())
        with torch.no_grad():
            distortion = self._nearest_distortion(data, codebooks.detach())
        # Training works group-major, (groups, rows, subvector dim), so that distances
        # are one batched matrix product per step.
        grouped = data.transpose(0, 1).contiguous()
        optimizer = torch.optim.Adam([codebooks], lr=self.lr)
        steps_per_epoch = math.ceil(n / self.batch_size)
        total_steps = self.epochs * steps_per_epoch
        ratio = self.beta_end / self.beta_start

        step = 0
        loss_sum = 0.0
        for epoch in range(self.epochs):
            order = torch.randperm(n, generator=generator)
            loss_sum = 0.0
            for start in range(0, n, self.batch_size):
                # Geometric schedule: beta_start at the first step, beta_end at the last.
                beta = self.beta_start * ratio ** (step / max(1, total_steps - 1))
                batch = grouped[:, order[start : start + self.batch_size]]
                soft = soft_decode(batch, codebooks, beta / distortion)
                loss = torch.mean((soft - batch) ** 2)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                loss_sum += loss.item() * batch.shape[1]
                step += 1
            logger.info(
                "vq epoch %d/%d: beta %.3g, soft reconstruction MSE %.4g",
                epoch + 1,
                self.epochs,
                beta,
                loss_sum / n,
            )

        self.codebooks = codebooks.detach().numpy().copy()
        self._set_fit_stats(data, distortion.view(1, -1, 1), loss_sum / n)
        return self

    def _nearest_distortion(
        self, data: torch.Tensor, codebooks: torch.Tensor
    ) -> torch.Tensor:
        """Return each group's mean squared distance to its nearest center, shape (groups,)."""
        total = torch.zeros(self.groups, dtype=torch.float64)
        for start in range(0, len(data), CHUNK_ROWS):
            dist = squared_distances(data[start : start + CHUNK_ROWS], codebooks)
            total += dist.min(dim=2).values.sum(dim=0).double()
        mean = (total / len(data)).float()
        # A group of constant subvectors has zero distortion, so clamp to keep beta finite.
        return torch.clamp(mean, min=1e-12).view(self.groups, 1, 1)

    def _set_fit_stats(
        self, data: torch.Tensor, distortion: torch.Tensor, final_loss: float
    ) -> None:
        """Measure hard and soft reconstruction, usage and perplexity on the fit data."""
        assert self.codebooks is not None
        codebooks = torch.from_numpy(self.codebooks)
        scaled_beta = self.beta_end / distortion
        counts = torch.zeros(self.groups, self.codebook_size, dtype=torch.float64)
        hard_error = gap = agreement = 0.0
        with torch.no_grad():
            for start in range(0, len(data), CHUNK_ROWS):
                batch = data[start : start + CHUNK_ROWS]
                dist = squared_distances(batch, codebooks)
                nearest = dist.argmin(dim=2)
                weights = soft_weights(dist, scaled_beta)
                hard = gather_centers(codebooks, nearest)
                soft = torch.einsum("bgk,gks->bgs", weights, codebooks)
                hard_error += float(((hard - batch) ** 2).sum())
                gap += float(((soft - hard) ** 2).sum())
                agreement += float(weights.gather(2, nearest[:, :, None]).sum())
                counts.scatter_add_(
                    1, nearest.T, torch.ones(nearest.T.shape, dtype=torch.float64)
                )
        n = len(data)
        usage = (counts > 0).double().mean(dim=1).numpy()
        probs = counts / counts.sum(dim=1, keepdim=True)
        entropy = -(probs * torch.log(torch.where(probs > 0, probs, 1.0))).sum(dim=1)
        self.fit_stats = {
            "final_loss": final_loss,
            "mse": hard_error / n,
            "soft_hard_gap": gap / n,
            "agreement": agreement / (n * self.groups),
            "usage": float(usage.mean()),
            "min_usage": float(usage.min()),
            "perplexity": float(torch.exp(entropy).mean()),
        }
        low = np.flatnonzero(usage < self.usage_threshold)
        if len(low):
            group = int(low[np.argmin(usage[low])])
            logger.warning(
                "%s: %d of %d groups use fewer than %.0f%% of their centers on the fit "
                "data (group %d uses %.1f%% of %d); lower %s.codebook_size, raise "
                "%s.beta_start, or lower %s.usage_threshold",
                self.key,
                len(low),
                self.groups,
                100 * self.usage_threshold,
                group,
                100 * usage[group],
                self.codebook_size,
                self.key,
                self.key,
                self.key,
            )

    def encode(self, x: FloatArray) -> np.ndarray:
        """Return the nearest center of each subvector, `bits_for(d)` bits per row."""
        return pack_bits(self.assign(x), bits_for_count(self.codebook_size))

    def assign(self, x: FloatArray) -> IntArray:
        """Return the index of the nearest center of each subvector, shape (n, groups).

        Distances are computed in float64, so ties only arise between equidistant
        centers; those go to the lowest index.
        """
        x = self.check_input(x)
        codebooks = torch.from_numpy(self._fitted_codebooks()).double()
        data = torch.from_numpy(x).view(len(x), self.groups, -1)
        indices = torch.empty(len(x), self.groups, dtype=torch.int64)
        for start in range(0, len(x), CHUNK_ROWS):
            batch = data[start : start + CHUNK_ROWS].double()
            dist = squared_distances(batch, codebooks)
            indices[start : start + CHUNK_ROWS] = dist.argmin(dim=2)
        return indices.numpy()

    def decode(self, codes: np.ndarray) -> FloatArray:
        """Return the concatenated centers that `codes` index."""
        codebooks = self._fitted_codebooks()
        indices = unpack_bits(codes, bits_for_count(self.codebook_size), self.groups)
        if indices.size and indices.max() >= self.codebook_size:
            raise ValueError(
                f"codes contain center index {indices.max()}, but {self.key} has "
                f"{self.codebook_size} centers per codebook; decode codes made by this "
                f"codec"
            )
        picked = codebooks[np.arange(self.groups), indices]
        return np.ascontiguousarray(picked.reshape(len(codes), -1), dtype=np.float32)

    def _fitted_codebooks(self) -> FloatArray:
        if self.codebooks is None:
            raise RuntimeError(
                f"the {self.kind} codec is not fitted; call fit() before using it"
            )
        return self.codebooks

    def config(self) -> dict[str, Any]:
        """Return the params that rebuild this codec, with `kind` first."""
        return {
            "kind": self.kind,
            "groups": self.groups,
            "codebook_size": self.codebook_size,
            "beta_start": self.beta_start,
            "beta_end": self.beta_end,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "usage_threshold": self.usage_threshold,
            "seed": self.seed,
        }

    def state(self) -> dict[str, np.ndarray]:
        """Return the codebooks, shape (groups, codebook_size, input_dim / groups)."""
        return {"codebooks": self._fitted_codebooks()}

    def load_state(self, state: Mapping[str, np.ndarray]) -> None:
        """Restore the codebooks returned by `state`.

        Raises:
            ValueError: the codebooks' shape does not match this codec's config.
        """
        codebooks = np.asarray(state["codebooks"], dtype=np.float32)
        expected = (self.groups, self.codebook_size)
        if codebooks.ndim != 3 or codebooks.shape[:2] != expected:
            raise ValueError(
                f"state codebooks have shape {codebooks.shape}, but {self.key} expects "
                f"({self.groups}, {self.codebook_size}, subvector dim); load a state "
                f"saved by a codec with the same config"
            )
        self.codebooks = codebooks
        self.input_dim = self.groups * codebooks.shape[2]


def squared_distances(batch: torch.Tensor, codebooks: torch.Tensor) -> torch.Tensor:
    """Return squared distances (b, groups, k) of subvectors (b, groups, s) to centers.

    Uses |x|^2 - 2 x.c + |c|^2, clamped at 0 against rounding.
    """
    cross = torch.einsum("bgs,gks->bgk", batch, codebooks)
    norms = (batch**2).sum(dim=2, keepdim=True) + (codebooks**2).sum(dim=2)[None]
    return torch.clamp(norms - 2 * cross, min=0.0)


def gather_centers(codebooks: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """Return the centers (b, groups, s) picked by `indices` (b, groups)."""
    groups = torch.arange(codebooks.shape[0])
    return codebooks[groups[None, :], indices]


def soft_decode(
    grouped: torch.Tensor, codebooks: torch.Tensor, scaled_beta: torch.Tensor
) -> torch.Tensor:
    """Return the softmax-weighted mean of the centers, group-major (groups, b, s).

    `scaled_beta` (groups, 1, 1) multiplies the negative squared distances. The
    |x|^2 term of the distance is left out, because adding a constant per row does
    not change a softmax.
    """
    center_norms = (codebooks**2).sum(dim=2)[:, None, :]
    partial = torch.baddbmm(center_norms, grouped, codebooks.transpose(1, 2), alpha=-2)
    return torch.bmm(soft_weights(partial, scaled_beta), codebooks)


def soft_weights(distances: torch.Tensor, scaled_beta: torch.Tensor) -> torch.Tensor:
    """Return softmax(-scaled_beta * distances) over the last dim.

    Logits more than `LOGIT_FLOOR` below the row max are raised to it, so that exp
    never yields subnormal floats, which make CPU arithmetic several times slower.
    Only weights below exp(-60), about 1e-26, change.
    """
    logits = -scaled_beta * distances
    logits = logits - logits.max(dim=-1, keepdim=True).values.detach()
    return torch.softmax(torch.clamp(logits, min=LOGIT_FLOOR), dim=-1)
