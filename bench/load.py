"""HTTP load for the bench: many clients, each a thread with its own connection, in a process of its own.

    python -m bench.load PLAN.json   # prints the measurements as JSON

The plan names the server, the path, the clients, how long to run, and either nothing (closed
loop: each client sends its next request as soon as the last one is answered, which measures
the most the server takes) or a `rate` in requests per second for all clients together (each
client keeps to a schedule, and a request's latency counts from when it was due, so a server
falling behind shows in the latencies instead of slowing the clients down). Each client signs
its requests with the sessions it is given, cycling through them. It posts the plan's `form` when
the plan has one (the first value of each field), else the next cell of the session's own walk
(`Walk`): every post then changes the vote stored in that cell, so each one writes a vote event,
as a member changing their mind does, never the no-op of re-sending a stored vote. Only the
standard library: the load generator should cost the server's two cores as little as
it can.
"""

import http.client
import json
import random
import sys
import threading
import time
from urllib.parse import urlencode


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(latencies: list[float], seconds: float, errors: dict[str, int]) -> dict:
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": round(seconds, 3),
        "throughput": round(len(latencies) / seconds, 1) if seconds else None,
        "p50_ms": _ms(percentile(latencies, 50)),
        "p95_ms": _ms(percentile(latencies, 95)),
        "p99_ms": _ms(percentile(latencies, 99)),
        "max_ms": _ms(max(latencies) if latencies else None),
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


class Walk:
    """One session's cells in an order of the run's own (`seed`), each post with a rationale no other has.

    The k-th post goes to the k-th cell, round after round, with the next choice on each round: a change of
    choice, and at the least of rationale (it names the run, the client and the post), whatever is stored.
    """

    def __init__(self, form: dict, seed: int, client: int):
        self.cells = [(c, k) for c in form["component"] for k in form["criterion"]]
        random.Random(seed * 1000 + client).shuffle(self.cells)
        self.choices, self.seed, self.client, self.posts = form["choice"], seed, client, 0

    def next(self) -> dict:
        (component, criterion), k = self.cells[self.posts % len(self.cells)], self.posts
        choice = self.choices[(k // len(self.cells) + self.seed) % len(self.choices)]
        self.posts += 1
        rationale = f"Bench run {self.seed}, client {self.client}, post {k}."
        return {"component": component, "criterion": criterion, "choice": choice, "rationale": rationale}


class Client(threading.Thread):
    def __init__(self, plan: dict, index: int, start_at: float, stop_at: float, interval: float | None):
        super().__init__(daemon=True)
        self.plan, self.index = plan, index
        self.start_at, self.stop_at, self.interval = start_at, stop_at, interval
        self.latencies: list[float] = []
        self.errors: dict[str, int] = {}
        self.random = random.Random(plan.get("seed", 1) * 1000 + index)
        self.walks: dict[str, Walk] = {}

    def run(self) -> None:
        plan = self.plan
        host, port = plan["host"], plan["port"]
        sessions = plan["sessions"][self.index :: plan["clients"]] or plan["sessions"]
        connection = http.client.HTTPConnection(host, port, timeout=60)
        due = self.start_at + (self.random.random() * self.interval if self.interval else 0)
        n = 0
        while True:
            now = time.perf_counter()
            if self.interval:
                if due >= self.stop_at:
                    break
                if due > now:
                    time.sleep(due - now)
            elif now >= self.stop_at:
                break
            session = sessions[n % len(sessions)]
            n += 1
            began = due if self.interval else time.perf_counter()
            status = self._send(connection, session)
            ended = time.perf_counter()
            if status in plan.get("ok", (200,)):
                self.latencies.append(ended - began)
            else:
                self.errors[str(status)] = self.errors.get(str(status), 0) + 1
            if self.interval:
                due += self.interval

    def _send(self, connection: http.client.HTTPConnection, session: dict) -> int | str:
        plan = self.plan
        headers = {
            "Cookie": f"sessionid={session['sessionid']}; csrftoken={session['csrftoken']}",
            "X-CSRFToken": session["csrftoken"],
            **plan.get("headers", {}),
        }
        body = None
        if plan["method"] == "POST":
            if plan.get("form"):
                form = {name: options[0] for name, options in plan["form"].items()}
            else:
                walk = self.walks.setdefault(session["sessionid"], Walk(session["form"], plan["seed"], self.index))
                form = walk.next()
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(plan["method"], session.get("path", plan["path"]), body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
            return response.status
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            return type(exc).__name__


def run(plan: dict) -> dict:
    clients, seconds = plan["clients"], plan["seconds"]
    interval = clients / plan["rate"] if plan.get("rate") else None
    start_at = time.perf_counter() + 0.2
    stop_at = start_at + seconds
    threads = [Client(plan, i, start_at, stop_at, interval) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = max(stop_at, time.perf_counter()) - start_at
    latencies = [latency for thread in threads for latency in thread.latencies]
    errors: dict[str, int] = {}
    for thread in threads:
        for status, n in thread.errors.items():
            errors[status] = errors.get(status, 0) + n
    return summary(latencies, elapsed, errors)


if __name__ == "__main__":
    with open(sys.argv[1]) as file:
        print(json.dumps(run(json.load(file))))
