"""Clients for the load and fault tests: OS processes posting replies over HTTP.

Each process posts its share of replies one after another through the JSON API, so N processes
keep N submissions in flight at once. Every attempt is written down with what the server
answered; a reply that got no answer, or a 503, is sent again with the same ``submission_id``
until ``retry_until`` (when given), exactly as a reader pressing "send again" would.

This module imports no Django: it runs in fresh processes (``spawn``) beside the server.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field

HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# The time trap refuses a form sent less than this many seconds after it was issued.
FORM_AGE = 3.2
LETTERS = str.maketrans("0123456789", "ghijklmnop")


@dataclass
class Attempt:
    submission_id: str
    body: str
    answers: list[int] = field(default_factory=list)  # HTTP status per try; 0: no answer
    outcome: str = ""  # the last answer's "outcome" (published, held, rejected, unavailable)
    code: str = ""  # the refusal's code, if refused
    text_returned: bool = True  # every 503 echoed the body

    @property
    def accepted(self) -> bool:
        return bool(self.answers) and self.answers[-1] in (200, 201)


def _post_json(url: str, payload: dict, timeout: float) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    try:
        with HTTP.open(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw or b"{}")
        except ValueError:
            return error.code, {"raw": raw[:500].decode(errors="replace")}


def form_token(base_url: str, key: str, timeout: float = 20) -> str:
    with HTTP.open(f"{base_url}/api/threads/{key}", timeout=timeout) as response:
        return json.loads(response.read())["form_token"]


def post_replies(
    base_url: str,
    key: str,
    worker: int,
    count: int,
    marker: str,
    retry_until: float | None = None,
    start_at: float = 0.0,
    request_timeout: float = 20.0,
) -> list[dict]:
    """Post ``count`` replies; returns one ``Attempt`` (as a dict) per reply."""
    token = form_token(base_url, key)
    # Every process starts together, once its form token is old enough for the time trap.
    time.sleep(max(FORM_AGE, start_at - time.time()))
    url = f"{base_url}/api/threads/{key}/replies"
    attempts = []
    for number in range(count):
        submission_id = uuid.uuid4().hex
        # The body names the submission (in letters: long digit runs look like phone numbers
        # to the personal-data guard), so a copy stored under another id would be found.
        body = f"{marker} from client {worker}, reply {number}: {submission_id.translate(LETTERS)}"
        attempt = Attempt(submission_id, body)
        payload = {
            "name": f"Load client {worker}",
            "email": f"load-{worker}@example.org",
            "body": body,
            "form_token": token,
            "submission_id": submission_id,
        }
        while True:
            try:
                status, answer = _post_json(url, payload, request_timeout)
            except (OSError, http.client.HTTPException):
                # Refused, reset, timed out, or cut off mid-answer (a killed server): no answer.
                status, answer = 0, {}
            attempt.answers.append(status)
            attempt.outcome = answer.get("outcome", "")
            attempt.code = answer.get("code", "")
            if status == 503 and answer.get("submitted", {}).get("body") != body:
                attempt.text_returned = False
            retry = status in (0, 503) and retry_until is not None and time.time() < retry_until
            if not retry:
                break
            time.sleep(0.25)
        attempts.append(asdict(attempt))
    return attempts


def run_clients(
    base_url: str,
    key: str,
    *,
    processes: int,
    total: int,
    marker: str,
    retry_until: float | None = None,
    request_timeout: float = 20.0,
):
    """Start ``processes`` OS processes sharing ``total`` replies; returns a Future of all
    their attempts (call ``.result()``), so the caller can break things meanwhile."""
    executor = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"))
    shares = [total // processes + (1 if n < total % processes else 0) for n in range(processes)]
    start_at = time.time() + FORM_AGE + 2  # time for every process to start and get its token
    futures = [
        executor.submit(post_replies, base_url, key, n, share, marker, retry_until, start_at, request_timeout)
        for n, share in enumerate(shares)
    ]
    executor.shutdown(wait=False)
    return futures


def gather(futures, timeout: float) -> list[Attempt]:
    attempts = []
    for future in futures:
        for data in future.result(timeout=timeout):
            attempts.append(Attempt(**data))
    return attempts


@dataclass
class Figures:
    """The figures docs/reliability.md reports."""

    attempts: int
    accepted: int
    refused: int
    unavailable: int
    met_503: int  # answered 503 at least once (then, maybe, stored when sent again)
    no_answer: int
    stored: int
    lost: int
    duplicated: int
    server_errors: int

    def line(self, label: str) -> str:
        return (
            f"{label}: attempts {self.attempts}, accepted {self.accepted}, refused {self.refused}, "
            f"503 at last {self.unavailable} (503 on some try {self.met_503}), no answer {self.no_answer}, "
            f"stored {self.stored}, lost {self.lost}, "
            f"duplicated {self.duplicated}, 500s {self.server_errors}"
        )


def figures(attempts: list[Attempt], stored: dict[str, int]) -> Figures:
    accepted = [a for a in attempts if a.accepted]
    final = [a.answers[-1] for a in attempts]
    return Figures(
        attempts=len(attempts),
        accepted=len(accepted),
        refused=sum(1 for status in final if 400 <= status < 500),
        unavailable=sum(1 for status in final if status == 503),
        met_503=sum(1 for a in attempts if 503 in a.answers),
        no_answer=sum(1 for status in final if status == 0),
        stored=len(stored),
        lost=sum(1 for a in accepted if stored.get(a.submission_id, 0) == 0),
        duplicated=sum(1 for count in stored.values() if count > 1),
        server_errors=sum(1 for a in attempts for status in a.answers if status == 500),
    )
