"""How failed video reads travel from DataLoader workers to the main process.

Each DataLoader worker is its own process (forked once, kept alive with
``persistent_workers``; one set per rank under torchrun), so a counter kept in
the dataset object never reaches the process that could stop the run. The
failures therefore ride along with the data: ``VideoDataset`` adds two keys
to every sample's ``data_samples`` (``default_collate`` batches them):

- ``read_attempts``: ``int``, how many videos were opened to produce this
  sample (1 when the first one was fine).
- ``read_failures``: ``str``, a JSON list of ``[filename, kind, reason,
  logged]`` for the attempts that were skipped (``'[]'`` when none). ``kind``
  is ``'failed'`` (corrupt, truncated, empty, missing...) or ``'short'``
  (readable but too few frames for the clip); ``logged`` says whether the
  producing process already logged it (the main process does, workers do
  not).

``VideoReadFailureHook`` (``hvg.engine``) sums these in the main process,
logs each bad file once, writes the list of bad files and stops the run when
too large a fraction of reads fail. Nothing is shared between processes, so
this works the same with 0 or N workers, persistent or not, and per rank
under torchrun.
"""
import json
from typing import Any, Dict, List, NamedTuple, Sequence

READ_ATTEMPTS_KEY = 'read_attempts'
READ_FAILURES_KEY = 'read_failures'


class VideoReadError(RuntimeError):
    """A video could not be served (test mode, or too many refetches)."""


class ReadFailure(NamedTuple):
    """One skipped read: which file, why, and whether it was logged."""
    filename: str
    kind: str
    reason: str
    logged: bool


def encode_failures(failures: Sequence[ReadFailure]) -> str:
    """The ``read_failures`` value of one sample (a JSON string)."""
    return json.dumps([list(f) for f in failures])


def decode_failures(encoded: str) -> List[ReadFailure]:
    """Inverse of ``encode_failures``."""
    return [ReadFailure(str(f), str(k), str(r), bool(l))
            for f, k, r, l in json.loads(encoded)]


def attach_read_report(data: Any, attempts: int,
                       failures: Sequence[ReadFailure]) -> Any:
    """Add ``read_attempts`` / ``read_failures`` to a packed sample.

    Only a sample shaped like ``PackVideoInputs``'s output (a dict whose
    ``data_samples`` is a dict) can carry them; anything else is returned
    unchanged and its failures are then only logged, not counted.
    """
    if isinstance(data, dict) and isinstance(data.get('data_samples'), dict):
        data['data_samples'][READ_ATTEMPTS_KEY] = int(attempts)
        data['data_samples'][READ_FAILURES_KEY] = encode_failures(failures)
    return data


def batch_read_report(data_batch: Any) -> Dict[str, Any]:
    """Sum the read report of a collated batch.

    Args:
        data_batch: what the DataLoader yields: ``{'inputs': ...,
            'data_samples': {..., 'read_attempts': (B,) tensor,
            'read_failures': [B strings]}}``.

    Returns:
        ``{'attempts': int, 'failures': [ReadFailure, ...]}``; zero attempts
        when the batch carries no report.
    """
    report = dict(attempts=0, failures=[])
    samples = data_batch.get('data_samples') if isinstance(
        data_batch, dict) else None
    if not isinstance(samples, dict) or READ_ATTEMPTS_KEY not in samples:
        return report
    attempts = samples[READ_ATTEMPTS_KEY]
    report['attempts'] = int(attempts.sum()) if hasattr(
        attempts, 'sum') else int(sum(attempts))
    encoded = samples.get(READ_FAILURES_KEY, [])
    if isinstance(encoded, str):
        encoded = [encoded]
    for item in encoded:
        report['failures'].extend(decode_failures(item))
    return report
