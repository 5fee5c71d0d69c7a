import math

from tests.knowledge.conftest import REMOTE_MODEL
from workflows.knowledge.embeddings import get_embedder


def test_local_model_is_the_default_and_loaded_once(local_embedder):
    # when
    first, second = get_embedder(), get_embedder()
    vectors = first.embed(["a short sentence", "another one"])
    # then
    assert first is second
    assert first.model_name == "all-MiniLM-L6-v2"
    assert first.dimensions == 384
    assert [len(v) for v in vectors] == [384, 384]
    assert math.isclose(sum(x * x for x in vectors[0]), 1.0, rel_tol=1e-4)


def test_openai_compatible_embeddings_are_batched(embedding_server, settings):
    # given a batch size of 4
    settings.AIOS_EMBEDDING_BATCH_SIZE = 4
    embedder = get_embedder(REMOTE_MODEL)
    # when ten texts are embedded
    vectors = embedder.embed([f"text {i}" for i in range(10)])
    # then three requests were made, and the dimension comes from the server
    assert [len(batch) for batch in embedding_server.requests] == [4, 4, 2]
    assert len(vectors) == 10
    assert embedder.dimensions == 256
    assert math.isclose(sum(x * x for x in vectors[3]), 1.0, rel_tol=1e-4)
