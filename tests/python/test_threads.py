"""The GIL is released while ragd works: Python keeps running beside an
ingest, a search or a generation, and threads share one engine."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor


def _longest_pause_during(call):
    """Runs call() on a thread; meanwhile this thread counts in a loop. The
    longest gap between two iterations (the first from the thread's start)
    is how long Python was kept from running: about the whole call when it
    holds the GIL."""
    done = threading.Event()
    out = {}

    def work():
        t = time.perf_counter()
        out["result"] = call()
        out["seconds"] = time.perf_counter() - t
        done.set()

    worker = threading.Thread(target=work)
    longest, iterations, last = 0.0, 0, time.perf_counter()
    worker.start()
    while not done.is_set():
        now = time.perf_counter()
        longest = max(longest, now - last)
        last = now
        iterations += 1
    worker.join()
    return longest, out["seconds"], iterations, out["result"]


def test_ingest_releases_the_gil(kb):
    texts = [f"Document {i} about card fees, transfers and deposits. " * 40 for i in range(16)]
    longest, seconds, iterations, ids = _longest_pause_during(lambda: kb.add_texts(texts))
    assert len(ids) == 16
    assert seconds > 0.5, f"the ingest took {seconds:.2f} s: too short to tell"
    # Held, the loop would stop for the whole ingest.
    assert longest < seconds / 4, f"Python stood still {longest:.2f} s of a {seconds:.2f} s ingest"
    assert iterations > 1000


def test_generation_releases_the_gil(bank):
    longest, seconds, _, answer = _longest_pause_during(
        lambda: bank.ask("How long does an international wire transfer take?"))
    assert answer.text
    assert longest < seconds / 4, f"Python stood still {longest:.2f} s of a {seconds:.2f} s answer"


def test_threads_share_one_engine(bank):
    queries = ["annual fee", "lost card", "wire transfer", "fixed deposit", "挂失", "外币兑换"] * 5
    expected = {q: [h.doc_id for h in bank.search(q, mode="bm25", k=3)] for q in set(queries)}
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda q: (q, [h.doc_id for h in bank.search(q, mode="hybrid", k=3)]), queries))
    assert len(got) == len(queries)
    with ThreadPoolExecutor(4) as pool:
        bm25 = list(pool.map(lambda q: [h.doc_id for h in bank.search(q, mode="bm25", k=3)], queries))
    assert bm25 == [expected[q] for q in queries]


def test_search_releases_the_gil(bank):
    def many():
        for _ in range(60):
            bank.search("How long does an international wire transfer take?", mode="hybrid", k=5)
        return True

    longest, seconds, _, _ = _longest_pause_during(many)
    assert longest < seconds / 4
