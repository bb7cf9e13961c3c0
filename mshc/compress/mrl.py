"""Matryoshka-style nested prefixes: keep the first `dim` coordinates of a mapped vector.

Four maps are available. `truncate` keeps the input's own first coordinates. `pca`
projects the centered input on its principal components, so the prefix contains the
directions of largest variance. `whitened_pca` also scales each component by
1/sqrt(eigenvalue + eps), as BERT-whitening does, which removes the
anisotropy of sentence embeddings. `adaptor` trains a small residual network on
frozen embeddings, y = L(x) + MLP(x), with a loss at every nested prefix in `dims`,
so one fit serves every prefix size.

The stored code is the float32 prefix, renormalized to unit length. One fit serves
every prefix size: `transform` returns the full mapped vectors, `encode_prefixes`
returns the codes at several sizes, and `with_dim` returns a codec at another size
that shares the fitted state.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mshc.compress.base import FLOAT32_BITS, Codec, FloatArray, Pairs
from mshc.config import check_positive_int, check_seed, check_type, unknown_name_error

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

METHODS = ("adaptor", "pca", "whitened_pca", "truncate")
INITS = ("pca", "whitened_pca")
# Added to each eigenvalue before whitening, so that near-zero variance directions
# are not scaled up without bound.
WHITEN_EPS = 1e-6
# Scale of the cosine differences inside the CoSENT loss, the default of
# sentence-transformers' CoSENTLoss (version 6.3).
COSENT_SCALE = 20.0
# Vectors and pairs used to measure the objective before and after training.
EVAL_ROWS = 2048


class MRLCodec(Codec):
    """Keep a float32 prefix of `dim` coordinates of a (learned) map of the input.

    Args:
        method: `adaptor`, `pca`, `whitened_pca` or `truncate`.
        dim: coordinates kept; below the input dimension, and one of `dims` for
            the adaptor.
        dims: nested prefix sizes. The adaptor is trained with a loss at each of
            them, and `encode_prefixes` defaults to them. PCA methods keep
            max(dims + [dim]) components.
        init: linear map the adaptor starts from, `whitened_pca` or `pca`.
        hidden: width of the adaptor's hidden layer.
        epochs: adaptor training epochs, each one pass over the fit vectors; 0
            keeps the linear initialization.
        batch_size: vectors (and pairs) per adaptor training step.
        lr: peak Adam learning rate, decayed to 0 on a cosine schedule.
        pair_weight: weight of the supervised CoSENT loss on the fit pairs; 0
            ignores the pairs.
        structure_weight: weight of the unsupervised loss that makes the batch
            cosine-similarity matrix of each prefix match that of the input.
        seed: seed of the adaptor's initialization and batch order.
        key: params.yaml path of this codec, used in error messages.

    Raises:
        ValueError: unknown method or init, invalid sizes, or `dim` not in `dims`
            for the adaptor.
        TypeError: a param of the wrong type.
    """

    kind = "mrl"

    def __init__(
        self,
        *,
        method: str = "adaptor",
        dim: int = 64,
        dims: Sequence[int] = (256, 128, 64, 32, 16),
        init: str = "whitened_pca",
        hidden: int = 512,
        epochs: int = 10,
        batch_size: int = 256,
        lr: float = 1e-4,
        pair_weight: float = 1.0,
        structure_weight: float = 100.0,
        seed: int = 0,
        key: str = "mrl",
    ) -> None:
        super().__init__()
        self.key = key
        self.method = check_type(method, str, f"{key}.method")
        if method not in METHODS:
            raise unknown_name_error("MRL method", method, f"{key}.method", METHODS)
        self.init = check_type(init, str, f"{key}.init")
        if init not in INITS:
            raise unknown_name_error("MRL init", init, f"{key}.init", INITS)
        self.dim = int(check_positive_int(dim, f"{key}.dim") or 0)
        check_type(dims, (list, tuple), f"{key}.dims")
        self.dims = [
            int(check_positive_int(m, f"{key}.dims[{i}]") or 0)
            for i, m in enumerate(dims)
        ]
        if not self.dims:
            raise ValueError(f"{key}.dims is empty; list at least one prefix size")
        if len(set(self.dims)) != len(self.dims):
            raise ValueError(f"{key}.dims={self.dims} repeats a size; list each once")
        if method == "adaptor" and self.dim not in self.dims:
            raise ValueError(
                f"{key}.dim={self.dim} is not in {key}.dims={self.dims}, the prefix "
                f"sizes the adaptor is trained for; add it to {key}.dims or choose "
                f"one of them"
            )
        self.hidden = int(check_positive_int(hidden, f"{key}.hidden") or 0)
        self.epochs = int(check_type(epochs, int, f"{key}.epochs"))
        if self.epochs < 0:
            raise ValueError(
                f"{key}.epochs={epochs} must be 0 (linear initialization only) or more"
            )
        self.batch_size = int(check_positive_int(batch_size, f"{key}.batch_size") or 0)
        if self.batch_size < 2:
            raise ValueError(
                f"{key}.batch_size={batch_size} must be at least 2, because the "
                f"losses compare vectors within a batch"
            )
        self.lr = _positive_float(lr, f"{key}.lr")
        self.pair_weight = _non_negative_float(pair_weight, f"{key}.pair_weight")
        self.structure_weight = _non_negative_float(
            structure_weight, f"{key}.structure_weight"
        )
        if method == "adaptor" and self.pair_weight == 0 and self.structure_weight == 0:
            raise ValueError(
                f"{key}.pair_weight and {key}.structure_weight are both 0, so the "
                f"adaptor has no loss to train on; set one of them above 0"
            )
        self.seed = check_seed(seed, f"{key}.seed")
        # Learned arrays at full width (rows = mapped coordinates). After
        # load_state they hold only the rows that `dim` needs.
        self._arrays: dict[str, np.ndarray] = {}

    # -- sizes -------------------------------------------------------------

    @property
    def width(self) -> int:
        """Coordinates of the mapped vector that a fit keeps: max(dims + [dim])."""
        return max([*self.dims, self.dim])

    def output_dim(self, input_dim: int) -> int:
        """Return `dim`: the decoded vector is the stored prefix itself."""
        return self.dim

    def bits_for(self, input_dim: int) -> int:
        """Return 32 * dim: one float32 per kept coordinate."""
        return FLOAT32_BITS * self.dim

    def check(self, n: int, input_dim: int, key: str) -> None:
        """Raise ValueError if `dim` or `dims` do not fit `input_dim`, or `n` is too small."""
        if self.dim >= input_dim:
            raise ValueError(
                f"{key}.dim={self.dim} must be less than the input dimension "
                f"{input_dim}; choose a smaller {key}.dim"
            )
        too_wide = [m for m in self.dims if m >= input_dim]
        if too_wide:
            raise ValueError(
                f"{key}.dims={self.dims} has sizes {too_wide} not below the input "
                f"dimension {input_dim}; remove them from {key}.dims"
            )
        if self.method != "truncate" and n <= self.width:
            raise ValueError(
                f"{self.method} needs more fit vectors than the {self.width} "
                f"components it keeps, but got {n}; lower {key}.dim and {key}.dims "
                f"or fit on more vectors"
            )
        if self.method == "adaptor" and n < 2:
            raise ValueError(f"the adaptor needs at least 2 fit vectors, got {n}")

    # -- fit ---------------------------------------------------------------

    def fit(self, x: FloatArray, pairs: Pairs | None = None) -> MRLCodec:
        """Fit the map on `x`; the adaptor also uses `pairs` when pair_weight > 0."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        self.check(x.shape[0], x.shape[1], self.key)
        self.input_dim = x.shape[1]
        self.fit_stats = {}
        if self.method == "truncate":
            self._arrays = {}
        elif self.method in INITS:
            self._arrays = self._fit_linear(x, whiten=self.method == "whitened_pca")
        else:
            use_pairs = pairs if self.pair_weight > 0 else None
            self._arrays = _train_adaptor(self, x, use_pairs)
        return self

    def _fit_linear(self, x: FloatArray, whiten: bool) -> dict[str, np.ndarray]:
        mean, eigenvalues, components = principal_components(x)
        self.fit_stats["explained_variance"] = float(
            eigenvalues[: self.dim].sum() / eigenvalues.sum()
        )
        components = components[: self.width]
        if whiten:
            components /= np.sqrt(eigenvalues[: self.width] + WHITEN_EPS)[:, None]
        return {
            "weight": components.astype(np.float32),
            "bias": (-components @ mean).astype(np.float32),
        }

    # -- encode / decode -----------------------------------------------------

    def transform(self, x: FloatArray) -> FloatArray:
        """Return the mapped vectors of `x` before renormalization.

        Their width is max(dims + [dim]) after `fit` (the input dimension for
        `truncate`), or the stored width after `load_state`. Every prefix code is
        a renormalized prefix of these vectors.
        """
        x = self.check_input(x)
        return self._map(x, self._stored_width())

    def encode(self, x: FloatArray) -> FloatArray:
        """Return the unit-length float32 prefix of `dim` mapped coordinates."""
        x = self.check_input(x)
        return _normalize(self._map(x, self.dim))

    def encode_prefixes(
        self, x: FloatArray, dims: Iterable[int] | None = None
    ) -> dict[int, FloatArray]:
        """Return `{m: code of x at prefix m}` for each m in `dims` (default: self.dims).

        Each code equals `with_dim(m).encode(x)`, from one pass through the map.

        Raises:
            ValueError: a size is above the stored width or below 1.
        """
        x = self.check_input(x)
        sizes = list(self.dims if dims is None else dims)
        for m in sizes:
            self._check_prefix(m)
        mapped = self._map(x, max(sizes))
        return {m: _normalize(mapped[:, :m]) for m in sizes}

    def decode(self, codes: np.ndarray) -> FloatArray:
        """Return the stored prefix as float32 (n, dim)."""
        codes = np.asarray(codes)
        if codes.ndim != 2 or codes.shape[1] != self.dim:
            raise ValueError(
                f"mrl codes must have shape (n, {self.dim}), got {codes.shape}"
            )
        return codes.astype(np.float32, copy=True)

    def with_dim(self, dim: int) -> MRLCodec:
        """Return a codec that keeps `dim` coordinates and shares this one's fit.

        Raises:
            ValueError: `dim` is above the stored width, or not in `dims` for the
                adaptor.
        """
        config = self.config()
        config.pop("kind")
        config["dim"] = dim
        codec = MRLCodec(**config, key=self.key)
        if self.input_dim is not None:
            self._check_prefix(dim)
            codec.input_dim = self.input_dim
            codec._arrays = self._arrays
            codec.fit_stats = dict(self.fit_stats)
        return codec

    def _stored_width(self) -> int:
        if "weight" in self._arrays:
            return int(self._arrays["weight"].shape[0])
        return self.fitted_dim

    def _check_prefix(self, m: int) -> None:
        width = self._stored_width()
        if not 1 <= m <= width:
            raise ValueError(
                f"prefix size {m} is outside 1..{width}, the mapped coordinates this "
                f"{self.method} codec stores; refit with {self.key}.dims including it"
            )

    def _map(self, x: FloatArray, rows: int) -> FloatArray:
        """Return the first `rows` mapped coordinates of `x` (un-normalized)."""
        if self.method == "truncate":
            return np.ascontiguousarray(x[:, :rows])
        arrays = {k: _rows(v, rows, k) for k, v in self._arrays.items()}
        if self.method in INITS:
            return (x @ arrays["weight"].T + arrays["bias"]).astype(np.float32)
        return _adaptor_forward(arrays, x)

    # -- config and state --------------------------------------------------

    def config(self) -> dict[str, Any]:
        """Return the params that rebuild this codec, with `kind` first."""
        return {
            "kind": self.kind,
            "method": self.method,
            "dim": self.dim,
            "dims": list(self.dims),
            "init": self.init,
            "hidden": self.hidden,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "pair_weight": self.pair_weight,
            "structure_weight": self.structure_weight,
            "seed": self.seed,
        }

    def state(self) -> dict[str, np.ndarray]:
        """Return the arrays that encoding at `dim` needs.

        Only the first `dim` output rows are kept, so model bytes count what a
        deployment at this prefix size stores. `truncate` returns one zero-row
        array whose width records the input dimension, so its model bytes are 0.
        """
        if self.method == "truncate":
            return {"input_shape": np.zeros((0, self.fitted_dim), dtype=np.float32)}
        self._check_prefix(self.dim)
        return {k: _rows(v, self.dim, k).copy() for k, v in self._arrays.items()}

    def load_state(self, state: Mapping[str, np.ndarray]) -> None:
        """Restore `state()` output; later prefixes are limited to the stored width."""
        if self.method == "truncate":
            self.input_dim = int(state["input_shape"].shape[1])
            self._arrays = {}
            return
        expected = {"weight", "bias"}
        if self.method == "adaptor":
            expected |= set(ADAPTOR_MLP)
        missing = sorted(expected - set(state))
        if missing:
            raise ValueError(
                f"the {self.method} state for {self.key} has no {', '.join(missing)}; "
                f"save it with state() of a codec built from the same config"
            )
        self._arrays = {k: np.asarray(state[k], dtype=np.float32) for k in expected}
        self.input_dim = int(self._arrays["weight"].shape[1])
        self._check_prefix(self.dim)


# Adaptor arrays beside the linear path's weight and bias; "out" arrays have one
# row per mapped coordinate.
ADAPTOR_MLP = ("hidden_weight", "hidden_bias", "out_weight", "out_bias")
ROW_ARRAYS = ("weight", "bias", "out_weight", "out_bias")


def _rows(array: np.ndarray, rows: int, name: str) -> np.ndarray:
    """Return the first `rows` output rows of an array that has one per coordinate."""
    if name in ROW_ARRAYS:
        return np.ascontiguousarray(array[:rows])
    return array


def _normalize(x: np.ndarray) -> FloatArray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)


def _positive_float(value: Any, key: str) -> float:
    number = float(check_type(value, float, key))
    if not number > 0:
        raise ValueError(f"{key}={value} must be positive")
    return number


def _non_negative_float(value: Any, key: str) -> float:
    number = float(check_type(value, float, key))
    if not number >= 0:
        raise ValueError(f"{key}={value} must be 0 or more")
    return number


def principal_components(
    x: FloatArray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the mean, covariance eigenvalues (descending) and components of `x`.

    Components are the rows of a (d, d) float64 array. LAPACK fixes each one only
    up to sign, so the sign is set to make its largest-magnitude entry positive.
    """
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=0)
    centered = x64 - mean
    covariance = centered.T @ centered / (x.shape[0] - 1)
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    order = np.argsort(eigenvalues)[::-1]
    eigenvalues = np.maximum(eigenvalues[order], 0.0)
    components = eigenvectors[:, order].T
    largest = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(len(components)), largest])
    return mean, eigenvalues, components * signs[:, None]


# -- adaptor -----------------------------------------------------------------


def _adaptor_forward(arrays: Mapping[str, np.ndarray], x: FloatArray) -> FloatArray:
    """Run y = L(x) + MLP(x) in torch, the same ops that training uses."""
    import torch

    tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}
    with torch.no_grad():
        y = _forward(tensors, torch.from_numpy(x))
    return y.numpy().astype(np.float32, copy=False)


def _forward(
    params: Mapping[str, torch.Tensor],
    linear_input: torch.Tensor,
    mlp_input: torch.Tensor | None = None,
) -> torch.Tensor:
    """Return L(linear_input) + MLP(mlp_input); `mlp_input` defaults to `linear_input`.

    Encoding passes x to both. Training passes preconditioned copies of x, see
    `_AdaptorProblem`.
    """
    import torch.nn.functional as F

    if mlp_input is None:
        mlp_input = linear_input
    hidden = F.gelu(F.linear(mlp_input, params["hidden_weight"], params["hidden_bias"]))
    return F.linear(linear_input, params["weight"], params["bias"]) + F.linear(
        hidden, params["out_weight"], params["out_bias"]
    )


def _structure_loss(
    x: torch.Tensor, y: torch.Tensor, dims: Sequence[int]
) -> torch.Tensor:
    """Return the mean over prefixes of the MSE between batch cosine matrices.

    The target is the cosine matrix of the input rows; the diagonal is left out
    because it is 1 on both sides.
    """
    import torch
    import torch.nn.functional as F

    target = x @ x.T
    off_diagonal = 1.0 - torch.eye(len(x))
    pairs_count = len(x) * (len(x) - 1)
    losses = []
    for m in dims:
        prefix = F.normalize(y[:, :m], dim=1)
        diff = (prefix @ prefix.T - target) * off_diagonal
        losses.append(diff.pow(2).sum() / pairs_count)
    return torch.stack(losses).mean()


def cosent_loss(
    cosines: torch.Tensor, scores: torch.Tensor, scale: float = COSENT_SCALE
) -> torch.Tensor:
    """Return the CoSENT loss of pair cosines against gold scores.

    CoSENT is log(1 + sum exp(scale * (cos_j - cos_i))) over every two
    pairs i, j with score_i > score_j, so it penalizes each pair ranked
    below a pair with a lower score.
    """
    import torch

    differences = scale * (cosines[None, :] - cosines[:, None])
    ordered = scores[:, None] > scores[None, :]
    terms = differences.masked_fill(~ordered, -math.inf).flatten()
    return torch.logsumexp(torch.cat([terms.new_zeros(1), terms]), dim=0)


def _pair_loss(
    y_left: torch.Tensor,
    y_right: torch.Tensor,
    scores: torch.Tensor,
    dims: Sequence[int],
) -> torch.Tensor:
    import torch
    import torch.nn.functional as F

    losses = []
    for m in dims:
        cosines = F.cosine_similarity(y_left[:, :m], y_right[:, :m], dim=1)
        losses.append(cosent_loss(cosines, scores))
    return torch.stack(losses).mean()


class _AdaptorProblem:
    """The fit data, preconditioned, and the adaptor's objective on it.

    Adam takes steps of about `lr` in every weight, whatever the weight's scale,
    while the linear map from unit-length 512-d embeddings to whitened
    coordinates has entries up to about 1/sqrt(smallest eigenvalue). So training
    runs on preconditioned inputs: L takes z, the input in the whitened basis of
    all d principal components, and the MLP takes u, the centered input scaled to
    unit variance per coordinate on average. `stored_arrays` folds both back
    into maps of x.
    """

    def __init__(self, codec: MRLCodec, x: FloatArray, pairs: Pairs | None) -> None:
        import torch

        self.codec = codec
        self.dims = sorted(codec.dims, reverse=True)
        mean, eigenvalues, components = principal_components(x)
        codec.fit_stats["explained_variance"] = float(
            eigenvalues[: codec.dim].sum() / eigenvalues.sum()
        )
        self.mean = mean
        self.basis = components / np.sqrt(eigenvalues + WHITEN_EPS)[:, None]
        self.mlp_scale = float(np.sqrt(eigenvalues.mean()))
        centered = x.astype(np.float64) - mean
        self.z = torch.from_numpy((centered @ self.basis.T).astype(np.float32))
        self.u = torch.from_numpy((centered / self.mlp_scale).astype(np.float32))
        # A copy, because torch cannot wrap read-only arrays such as memory maps.
        self.x = torch.from_numpy(np.array(x, dtype=np.float32))
        self.pairs = None
        if pairs is not None and len(pairs.scores) >= 2:
            self.pairs = (
                torch.as_tensor(np.array(pairs.left), dtype=torch.long),
                torch.as_tensor(np.array(pairs.right), dtype=torch.long),
                torch.as_tensor(np.array(pairs.scores), dtype=torch.float32),
            )
        # L starts as the PCA map (whitened or not) of the first `width` components.
        start = np.zeros((codec.width, x.shape[1]))
        if codec.init == "pca":
            scales = np.sqrt(eigenvalues[: codec.width] + WHITEN_EPS)
        else:
            scales = np.ones(codec.width)
        start[np.arange(codec.width), np.arange(codec.width)] = scales
        first = torch.nn.Linear(x.shape[1], codec.hidden)
        self.params = {
            "weight": torch.from_numpy(start.astype(np.float32)),
            "bias": torch.zeros(codec.width),
            "hidden_weight": first.weight.detach().clone(),
            "hidden_bias": first.bias.detach().clone(),
            "out_weight": torch.zeros(codec.width, codec.hidden),
            "out_bias": torch.zeros(codec.width),
        }
        for tensor in self.params.values():
            tensor.requires_grad_(True)

    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        """Return the mapped vectors of fit rows `rows`."""
        return _forward(self.params, self.z[rows], self.u[rows])

    def losses(
        self, rows: torch.Tensor, pair_rows: torch.Tensor | None
    ) -> dict[str, torch.Tensor]:
        """Return the weighted total loss and its parts on one batch."""
        import torch

        codec = self.codec
        parts: dict[str, torch.Tensor] = {}
        total = torch.zeros(())
        if codec.structure_weight > 0:
            parts["structure"] = _structure_loss(
                self.x[rows], self.forward(rows), self.dims
            )
            total = total + codec.structure_weight * parts["structure"]
        if self.pairs is not None and pair_rows is not None:
            left, right, scores = (t[pair_rows] for t in self.pairs)
            mapped = self.forward(torch.cat([left, right]))
            parts["pair"] = _pair_loss(
                mapped[: len(left)], mapped[len(left) :], scores, self.dims
            )
            total = total + codec.pair_weight * parts["pair"]
        parts["total"] = total
        return parts

    def mean_losses(
        self, rows: torch.Tensor, pair_rows: torch.Tensor | None
    ) -> dict[str, float]:
        """Return the losses averaged over batches of `rows` (and `pair_rows`)."""
        import torch

        size = self.codec.batch_size
        sums: dict[str, float] = {}
        batches = 0
        with torch.no_grad():
            for start in range(0, len(rows) - 1, size):
                batch_pairs = None
                if pair_rows is not None and len(pair_rows[start : start + size]) >= 2:
                    batch_pairs = pair_rows[start : start + size]
                parts = self.losses(rows[start : start + size], batch_pairs)
                for name, value in parts.items():
                    sums[name] = sums.get(name, 0.0) + float(value)
                batches += 1
        return {name: value / max(batches, 1) for name, value in sums.items()}

    def pair_spearman(self) -> dict[int, float]:
        """Return the Spearman correlation of pair cosines with gold scores, per prefix."""
        import torch
        import torch.nn.functional as F
        from scipy.stats import spearmanr

        if self.pairs is None:
            return {}
        left, right, scores = self.pairs
        result = {}
        with torch.no_grad():
            mapped_left, mapped_right = self.forward(left), self.forward(right)
            for m in self.dims:
                cosines = F.cosine_similarity(
                    mapped_left[:, :m], mapped_right[:, :m], dim=1
                )
                result[m] = float(spearmanr(cosines.numpy(), scores.numpy()).statistic)
        return result

    def stored_arrays(self) -> dict[str, np.ndarray]:
        """Return the trained adaptor as maps of x: L(x) = weight @ x + bias, MLP(x)."""
        p = {k: v.detach().numpy().astype(np.float64) for k, v in self.params.items()}
        weight = p["weight"] @ self.basis
        hidden_weight = p["hidden_weight"] / self.mlp_scale
        arrays = {
            "weight": weight,
            "bias": p["bias"] - weight @ self.mean,
            "hidden_weight": hidden_weight,
            "hidden_bias": p["hidden_bias"] - hidden_weight @ self.mean,
            "out_weight": p["out_weight"],
            "out_bias": p["out_bias"],
        }
        return {k: v.astype(np.float32) for k, v in arrays.items()}


def _train_adaptor(
    codec: MRLCodec, x: FloatArray, pairs: Pairs | None
) -> dict[str, np.ndarray]:
    """Train the adaptor on `x` (and `pairs`) and return its stored arrays.

    The MLP's output layer starts at zero, so training starts at the linear map.
    Every step adds the structure loss on a batch of vectors and, with pairs, the
    CoSENT loss on a batch of pairs, each averaged over the prefixes in `dims`.
    The learning rate decays from `lr` to 0 on a cosine schedule.
    """
    from mshc.compress.threads import one_thread

    # Each step multiplies matrices of about 256 x 512, too small to gain much
    # from more threads, while threads that wait for busy cores stall every step.
    # Measured with tests/compress/test_mrl.py on 2 cores shared with other jobs:
    # 114 s with torch's default of one thread per core, 15 s with one thread.
    with one_thread():
        return _train_on_one_thread(codec, x, pairs)


def _train_on_one_thread(
    codec: MRLCodec, x: FloatArray, pairs: Pairs | None
) -> dict[str, np.ndarray]:
    import torch

    torch.manual_seed(codec.seed)
    generator = torch.Generator().manual_seed(codec.seed)
    problem = _AdaptorProblem(codec, x, pairs)
    n = x.shape[0]
    pair_count = 0 if problem.pairs is None else len(problem.pairs[2])
    # The objective before and after training is measured on fixed fit rows.
    eval_rows = torch.randperm(n, generator=generator)[:EVAL_ROWS]
    eval_pairs = None
    if pair_count:
        eval_pairs = torch.randperm(pair_count, generator=generator)[:EVAL_ROWS]
    start_losses = problem.mean_losses(eval_rows, eval_pairs)
    for m, rho in problem.pair_spearman().items():
        codec.fit_stats[f"train_spearman_init_{m}"] = rho

    optimizer = torch.optim.Adam(list(problem.params.values()), lr=codec.lr)
    size = min(codec.batch_size, n)
    steps_per_epoch = max(1, n // size)
    total_steps = steps_per_epoch * codec.epochs
    pair_order = torch.zeros(0, dtype=torch.long)
    pair_position = 0
    step = 0
    for epoch in range(codec.epochs):
        order = torch.randperm(n, generator=generator)
        running = 0.0
        for batch in range(steps_per_epoch):
            rows = order[batch * size : (batch + 1) * size]
            pair_rows = None
            if pair_count:
                if pair_position + size > len(pair_order):
                    pair_order = torch.randperm(pair_count, generator=generator)
                    pair_position = 0
                pair_rows = pair_order[pair_position : pair_position + size]
                pair_position += size
            for group in optimizer.param_groups:
                group["lr"] = (
                    codec.lr * 0.5 * (1 + math.cos(math.pi * step / total_steps))
                )
            loss = problem.losses(rows, pair_rows)["total"]
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            running += float(loss.detach())
            step += 1
        if epoch == codec.epochs - 1 or (epoch + 1) % max(1, codec.epochs // 5) == 0:
            logger.info(
                "mrl adaptor epoch %d/%d: train loss %.4f",
                epoch + 1,
                codec.epochs,
                running / steps_per_epoch,
            )

    end_losses = problem.mean_losses(eval_rows, eval_pairs)
    for name, value in start_losses.items():
        codec.fit_stats[f"loss_{name}_start"] = value
        codec.fit_stats[f"loss_{name}_end"] = end_losses[name]
    for m, rho in problem.pair_spearman().items():
        codec.fit_stats[f"train_spearman_{m}"] = rho
    return problem.stored_arrays()
