"""TopK sparse autoencoder whose code is k (latent index, quantized value) pairs.

The encoder keeps the k largest latents of ReLU(W_enc (x - b_pre) + b_enc), and the
decoder adds their unit-norm decoder columns, scaled by the latent values, to b_pre.
An auxiliary loss (AuxK) trains dead latents on the residual so that fewer of them
stay unused.
"""

from __future__ import annotations

import logging
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

MAX_VALUE_BITS = 16
# Quantiles of the fit data's top-k latent values that bound the quantization range.
# Values outside it are clipped, so rare outliers do not widen every step.
VALUE_QUANTILES = (0.001, 0.999)
# Rows per chunk when encoding, to bound memory on large inputs.
CHUNK_ROWS = 4096


class TopKSAE(Codec):
    """TopK sparse autoencoder storing k latents as (index, uniformly quantized value).

    A latent is dead during training when it has not been among the top k of any
    row for `dead_steps` optimizer steps. Each step then adds `aux_weight` times the
    MSE of reconstructing the main reconstruction's residual from the top `aux_k` dead
    latents, or from all of them if fewer are dead. That loss trains only dead latents.
    NOTE: on small clustered test data (2,000 vectors, 128-512 latents) the auxiliary
    loss did not lower the dead fraction; it is written for the large-data setting
    where it was proposed.

    `fit_stats` after fit, all on the fit data:
      final_loss: training loss (reconstruction MSE per element, plus the auxiliary
        term) over the last epoch.
      mse, float_mse: mean squared L2 error per vector of decode(encode(x)), and of the
        decoder applied to the unquantized top-k latents.
      fraction_variance_unexplained: squared error of decode(encode(x)) summed over
        the fit data, divided by the summed squared distance of x to its mean.
      dead_fraction: fraction of latents that never are in the top k under encode.
      value_low, value_high: the quantization range of latent values.
    """

    kind = "sae"

    def __init__(
        self,
        *,
        hidden: int = 4096,
        k: int = 4,
        value_bits: int = 4,
        epochs: int = 10,
        batch_size: int = 1024,
        lr: float = 0.001,
        aux_k: int = 256,
        aux_weight: float = 1 / 32,
        dead_steps: int = 200,
        seed: int = 0,
        key: str = "sae",
    ) -> None:
        super().__init__()
        self.key = key
        self.hidden = int(check_positive_int(hidden, f"{key}.hidden") or 0)
        self.k = int(check_positive_int(k, f"{key}.k") or 0)
        if self.k >= self.hidden:
            raise ValueError(
                f"{key}.k={k} must be less than {key}.hidden={hidden}, so that the "
                f"code picks a subset of the latents; lower k or raise hidden"
            )
        self.value_bits = int(check_positive_int(value_bits, f"{key}.value_bits") or 0)
        if self.value_bits > MAX_VALUE_BITS:
            raise ValueError(
                f"{key}.value_bits={value_bits} is out of range; choose 1 to "
                f"{MAX_VALUE_BITS} bits per latent value"
            )
        self.epochs = int(check_positive_int(epochs, f"{key}.epochs") or 0)
        self.batch_size = int(check_positive_int(batch_size, f"{key}.batch_size") or 0)
        self.lr = float(check_type(lr, float, f"{key}.lr"))
        if self.lr <= 0:
            raise ValueError(f"{key}.lr={lr} must be greater than 0")
        self.aux_k = int(check_positive_int(aux_k, f"{key}.aux_k") or 0)
        self.aux_weight = float(check_type(aux_weight, float, f"{key}.aux_weight"))
        if self.aux_weight < 0:
            raise ValueError(
                f"{key}.aux_weight={aux_weight} must be 0 or more; 0 turns the "
                f"auxiliary loss off"
            )
        self.dead_steps = int(check_positive_int(dead_steps, f"{key}.dead_steps") or 0)
        self.seed = check_seed(seed, f"{key}.seed")
        self.weights: dict[str, FloatArray] | None = None

    @property
    def index_bits(self) -> int:
        """Bits of one latent index: ceil(log2(hidden))."""
        return bits_for_count(self.hidden)

    def output_dim(self, input_dim: int) -> int:
        """Return `input_dim`: decoded vectors have the input's dimension."""
        return input_dim

    def bits_for(self, input_dim: int) -> int:
        """Return k * (ceil(log2(hidden)) + value_bits) bits."""
        return self.k * (self.index_bits + self.value_bits)

    def fit(self, x: FloatArray, pairs: Pairs | None = None) -> TopKSAE:
        """Train the autoencoder on `x` and set the value range. `pairs` is ignored."""
        with one_thread():
            return self._fit(x)

    def _fit(self, x: FloatArray) -> TopKSAE:
        x = np.ascontiguousarray(x, dtype=np.float32)
        n, dim = x.shape
        self.check(n, dim, self.key)
        self.input_dim = dim
        torch.manual_seed(self.seed)
        generator = torch.Generator().manual_seed(self.seed)
        data = torch.from_numpy(x)

        enc = torch.randn(self.hidden, dim, generator=generator)
        enc /= enc.norm(dim=1, keepdim=True)
        params = {
            "b_pre": torch.nn.Parameter(data.mean(dim=0)),
            "w_enc": torch.nn.Parameter(enc.clone()),
            "b_enc": torch.nn.Parameter(torch.zeros(self.hidden)),
            "w_dec": torch.nn.Parameter(enc.T.contiguous()),
        }
        optimizer = torch.optim.Adam(params.values(), lr=self.lr, foreach=True)
        steps_since_fired = torch.zeros(self.hidden, dtype=torch.int64)

        loss_sum = 0.0
        for epoch in range(self.epochs):
            order = torch.randperm(n, generator=generator)
            loss_sum = 0.0
            for start in range(0, n, self.batch_size):
                batch = data[order[start : start + self.batch_size]]
                loss, fired = self._training_loss(batch, params, steps_since_fired)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                with torch.no_grad():
                    w_dec = params["w_dec"]
                    w_dec.div_(w_dec.norm(dim=0, keepdim=True).clamp(min=1e-12))
                steps_since_fired += 1
                steps_since_fired[fired] = 0
                loss_sum += loss.item() * len(batch)
            logger.info(
                "sae epoch %d/%d: loss %.4g, %d latents dead for %d steps",
                epoch + 1,
                self.epochs,
                loss_sum / n,
                int((steps_since_fired >= self.dead_steps).sum()),
                self.dead_steps,
            )

        self.weights = {name: p.detach().numpy().copy() for name, p in params.items()}
        # latents() reads only the network weights, and the range is set from its output.
        self.weights["value_range"] = np.zeros(2, dtype=np.float32)
        _, values = self.latents(x)
        positive = values[values > 0]
        if positive.size:
            low, high = np.quantile(positive, VALUE_QUANTILES)
        else:
            low, high = 0.0, 1.0
        self.weights["value_range"] = np.array(
            [low, max(high, low + 1e-6)], dtype=np.float32
        )
        self._set_fit_stats(x, loss_sum / n)
        return self

    def _training_loss(
        self,
        batch: torch.Tensor,
        params: dict[str, torch.nn.Parameter],
        steps_since_fired: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the loss of one batch and the indices of the latents that fired."""
        pre = (batch - params["b_pre"]) @ params["w_enc"].T + params["b_enc"]
        values, indices = pre.topk(self.k, dim=1)
        values = torch.relu(values)
        recon = decode_sparse(params["w_dec"], indices, values) + params["b_pre"]
        loss = torch.mean((recon - batch) ** 2)
        fired = indices[values > 0].unique()

        dead = steps_since_fired >= self.dead_steps
        dead_count = int(dead.sum())
        if self.aux_weight > 0 and dead_count:
            # AuxK: the top aux_k dead latents reconstruct what the live ones missed.
            residual = (batch - recon).detach()
            dead_pre = pre.masked_fill(~dead, float("-inf"))
            aux_values, aux_indices = dead_pre.topk(min(self.aux_k, dead_count), dim=1)
            # A dense product, because its backward is cheaper than scattering
            # aux_k gathered decoder columns per row.
            aux_latents = torch.zeros_like(pre).scatter(
                1, aux_indices, torch.relu(aux_values)
            )
            aux_recon = aux_latents @ params["w_dec"].T
            loss = loss + self.aux_weight * torch.mean((aux_recon - residual) ** 2)
        return loss, fired

    def _set_fit_stats(self, x: FloatArray, final_loss: float) -> None:
        """Measure reconstruction error and dead latents on the fit data."""
        codes = self.encode(x)
        decoded = self.decode(codes)
        indices, values = self.latents(x)
        float_decoded = self.decode_latents(indices, values)
        error = float(((decoded - x) ** 2).sum())
        variance = float(((x - x.mean(axis=0)) ** 2).sum())
        fired = np.zeros(self.hidden, dtype=bool)
        fired[indices[values > 0]] = True
        low, high = self._fitted_weights()["value_range"]
        self.fit_stats = {
            "final_loss": final_loss,
            "mse": error / len(x),
            "float_mse": float(((float_decoded - x) ** 2).sum()) / len(x),
            "fraction_variance_unexplained": error / max(variance, 1e-12),
            "dead_fraction": float(1.0 - fired.mean()),
            "value_low": float(low),
            "value_high": float(high),
        }

    def latents(self, x: FloatArray) -> tuple[IntArray, FloatArray]:
        """Return the top-k latent indices (n, k) and their unquantized ReLU values."""
        x = self.check_input(x)
        weights = {
            name: torch.from_numpy(w) for name, w in self._fitted_weights().items()
        }
        indices = np.empty((len(x), self.k), dtype=np.int64)
        values = np.empty((len(x), self.k), dtype=np.float32)
        with torch.no_grad():
            for start in range(0, len(x), CHUNK_ROWS):
                batch = torch.from_numpy(x[start : start + CHUNK_ROWS])
                pre = (batch - weights["b_pre"]) @ weights["w_enc"].T + weights["b_enc"]
                top_values, top_indices = pre.topk(self.k, dim=1)
                indices[start : start + CHUNK_ROWS] = top_indices.numpy()
                values[start : start + CHUNK_ROWS] = torch.relu(top_values).numpy()
        return indices, values

    def decode_latents(self, indices: np.ndarray, values: np.ndarray) -> FloatArray:
        """Return b_pre plus the decoder columns `indices` scaled by `values`."""
        weights = self._fitted_weights()
        with torch.no_grad():
            recon = decode_sparse(
                torch.from_numpy(weights["w_dec"]),
                torch.from_numpy(np.asarray(indices, dtype=np.int64)),
                torch.from_numpy(np.asarray(values, dtype=np.float32)),
            )
        return (recon.numpy() + weights["b_pre"]).astype(np.float32)

    def encode(self, x: FloatArray) -> np.ndarray:
        """Return k latent indices, then their k quantized values, as one bit-packed row."""
        indices, values = self.latents(x)
        low, high = self._fitted_weights()["value_range"]
        levels = 1 << self.value_bits
        step = (high - low) / levels
        quantized = np.clip(np.floor((values - low) / step), 0, levels - 1)
        index_field = np.unpackbits(pack_bits(indices, self.index_bits), axis=1)
        value_field = np.unpackbits(
            pack_bits(quantized.astype(np.int64), self.value_bits), axis=1
        )
        bits = np.concatenate(
            [
                index_field[:, : self.k * self.index_bits],
                value_field[:, : self.k * self.value_bits],
            ],
            axis=1,
        )
        return np.packbits(bits, axis=1)

    def decode(self, codes: np.ndarray) -> FloatArray:
        """Return the decoder output for the latents stored in `codes`.

        A quantized value stands for the midpoint of its step of the value range.
        """
        low, high = self._fitted_weights()["value_range"]
        bits = np.unpackbits(np.asarray(codes, dtype=np.uint8), axis=1)
        split = self.k * self.index_bits
        indices = unpack_bits(
            np.packbits(bits[:, :split], axis=1), self.index_bits, self.k
        )
        if indices.size and indices.max() >= self.hidden:
            raise ValueError(
                f"codes contain latent index {indices.max()}, but {self.key} has "
                f"{self.hidden} latents; decode codes made by this codec"
            )
        value_bits = bits[:, split : split + self.k * self.value_bits]
        quantized = unpack_bits(
            np.packbits(value_bits, axis=1), self.value_bits, self.k
        )
        step = (high - low) / (1 << self.value_bits)
        values = (low + (quantized + 0.5) * step).astype(np.float32)
        return self.decode_latents(indices, values)

    def _fitted_weights(self) -> dict[str, FloatArray]:
        if self.weights is None:
            raise RuntimeError(
                f"the {self.kind} codec is not fitted; call fit() before using it"
            )
        return self.weights

    def config(self) -> dict[str, Any]:
        """Return the params that rebuild this codec, with `kind` first."""
        return {
            "kind": self.kind,
            "hidden": self.hidden,
            "k": self.k,
            "value_bits": self.value_bits,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "aux_k": self.aux_k,
            "aux_weight": self.aux_weight,
            "dead_steps": self.dead_steps,
            "seed": self.seed,
        }

    def state(self) -> dict[str, np.ndarray]:
        """Return b_pre, w_enc, b_enc, w_dec and the value range [low, high]."""
        return dict(self._fitted_weights())

    def load_state(self, state: Mapping[str, np.ndarray]) -> None:
        """Restore the weights returned by `state`.

        Raises:
            ValueError: a weight is missing or its shape does not match the config.
        """
        missing = {"b_pre", "w_enc", "b_enc", "w_dec", "value_range"} - set(state)
        if missing:
            raise ValueError(
                f"the state for {self.key} lacks {', '.join(sorted(missing))}; load a "
                f"state saved by a codec with the same config"
            )
        weights = {name: np.asarray(state[name], dtype=np.float32) for name in state}
        dim = weights["b_pre"].shape[0]
        expected = {
            "b_pre": (dim,),
            "w_enc": (self.hidden, dim),
            "b_enc": (self.hidden,),
            "w_dec": (dim, self.hidden),
            "value_range": (2,),
        }
        for name, shape in expected.items():
            if weights[name].shape != shape:
                raise ValueError(
                    f"state {name} of {self.key} has shape {weights[name].shape}, "
                    f"expected {shape}; load a state saved by a codec with the same "
                    f"config"
                )
        self.weights = {name: weights[name] for name in expected}
        self.input_dim = dim


def decode_sparse(
    w_dec: torch.Tensor, indices: torch.Tensor, values: torch.Tensor
) -> torch.Tensor:
    """Return sum_j values[:, j] * w_dec[:, indices[:, j]], shape (n, dim)."""
    columns = w_dec.T[indices]
    return (values[:, :, None] * columns).sum(dim=1)
