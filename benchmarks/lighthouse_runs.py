"""Lighthouse (npm, pinned in benchmarks/lighthouse/) on the portal's pages, in Debian's
Chromium: the mobile preset (a mid-range phone, simulated slow 4G), each page run several
times and the median score of each category kept, as Lighthouse's authors advise."""

from __future__ import annotations

import json
import os
import statistics
import subprocess  # nosec B404 - runs the pinned Lighthouse
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent / "lighthouse"
LIGHTHOUSE = HERE / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices")
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --disable-sync --no-first-run"
)
ATTEMPTS = 3  # Lighthouse now and then fails to record a trace; it is run again


class LighthouseMissing(SystemExit):
    pass


def run_once(url: str, cookie: str) -> dict[str, float]:
    if not LIGHTHOUSE.exists():
        raise LighthouseMissing("Lighthouse is not installed: run scripts/benchmark")
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        command = [
            str(LIGHTHOUSE),
            url,
            "--quiet",
            f"--chrome-flags={CHROME_FLAGS}",
            f"--only-categories={','.join(CATEGORIES)}",
            "--output=json",
            f"--output-path={report}",
        ]
        if cookie:
            command.append(f"--extra-headers={json.dumps({'Cookie': cookie})}")
        env = {**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")}
        for _ in range(ATTEMPTS):
            done = subprocess.run(  # noqa: S603  # nosec B603 - the pinned Lighthouse
                command, env=env, capture_output=True, timeout=300, check=False
            )
            if done.returncode == 0 and report.exists():
                result = json.loads(report.read_text())
                if not result.get("runtimeError"):
                    return {
                        name: float(result["categories"][name]["score"] or 0) for name in CATEGORIES
                    } | {"failing": failing_audits(result)}
        raise SystemExit(f"Lighthouse failed on {url}: {done.stderr.decode()[-2000:]}")


def failing_audits(result: dict) -> list[str]:
    """The weighted audits that did not pass, to say why a score fell short."""
    names = []
    for category in CATEGORIES:
        for ref in result["categories"][category]["auditRefs"]:
            audit = result["audits"][ref["id"]]
            if ref.get("weight") and audit.get("score") is not None and audit["score"] < 1:
                names.append(f"{category}:{ref['id']}")
    return names


def version() -> str:
    package = HERE / "node_modules" / "lighthouse" / "package.json"
    return json.loads(package.read_text())["version"] if package.exists() else "not installed"


def median_scores(url: str, cookie: str, runs: int) -> dict:
    results = [run_once(url, cookie) for _ in range(runs)]
    scores = {name: statistics.median(r[name] for r in results) for name in CATEGORIES}
    scores["runs"] = [[r[name] for name in CATEGORIES] for r in results]
    scores["failing"] = sorted({audit for r in results for audit in r["failing"]})
    return scores
