"""Score PCA and whitened PCA at one prefix size, fitted on different corpora.

The fit sentences are a param (`corpus.sources`) because they change the result:
this script fits each linear MRL baseline on each listed corpus and scores KLUE-STS
dev (or `--dataset`) with the evaluate stage's protocol. It reads the prepared
tables, the embeddings and `metrics/evaluate/`, so run `dvc repro` first:

    python benchmarks/corpus_choice.py --dim 64
"""

from __future__ import annotations

import argparse

from mshc.compress import build_codec
from mshc.compress.corpus import build_corpus
from mshc.compress.params import CorpusParams
from mshc.compress.store import read_dataset
from mshc.config import EvaluateParams, load_params, section
from mshc.evaluate.scorer import DatasetScorer

DEFAULT_CORPORA = ("korsts:train", "korsts:train+nsmc:train", "nsmc:train")


def main() -> None:
    """Print one row per (corpus, method): corpus size, score and retention."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", type=int, default=64, help="prefix size (default: 64)")
    parser.add_argument(
        "--dataset", default="klue-sts", help="dataset scored (default: klue-sts)"
    )
    parser.add_argument(
        "--corpus",
        action="append",
        help="'+'-joined <dataset>:<split> sources; repeat for several "
        f"(default: {', '.join(DEFAULT_CORPORA)})",
    )
    args = parser.parse_args()

    params = load_params()
    texts, vectors = read_dataset("full", args.dataset)
    scorer = DatasetScorer(args.dataset, texts, EvaluateParams.from_params(params))
    print(f"{'corpus':<28} {'texts':>6} {'method':<13} {'score':>6} {'retention':>9}")
    for corpus_spec in args.corpus or DEFAULT_CORPORA:
        settings = CorpusParams.from_params(
            {"corpus": {"sources": corpus_spec.split("+")}}
        )
        corpus = build_corpus(settings, section(params, "datasets"))
        for method in ("pca", "whitened_pca"):
            config = {"kind": "mrl", "method": method, "dim": args.dim}
            codec = build_codec(config, "corpus_choice").fit(corpus.vectors)
            decoded = codec.decode(codec.encode(vectors))
            row = scorer.score(decoded, f"{method}-{corpus_spec}-{args.dim}")
            print(
                f"{corpus_spec:<28} {len(corpus.texts):>6} {method:<13} "
                f"{row['score']:>6.2f} {row['retention']:>8.1f}%"
            )


if __name__ == "__main__":
    main()
