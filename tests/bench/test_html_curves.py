"""Training curves: metrics.jsonl of a trainer -> curves.png and a self-contained curves.html."""

from __future__ import annotations

import json
import re

from appsplus.trainers.curves import main


def _log(path, rows, torn: bool = False):
    text = "".join(json.dumps(r) + "\n" for r in rows)
    path.write_text(text + ('{"iteration": 9, "charts/rew' if torn else ""))


def test_curves_of_a_stepcoder_style_log(tmp_path, capsys):
    rows = [
        {
            "iteration": i,
            "charts/reward_mean": -1 + 0.1 * i,
            "charts/pass_rate": 0.05 * i,
            "losses/approx_kl": 0.01 / i,
            "losses/policy": 0.5 - 0.02 * i,
            "charts/stage_mean": 0.25 * (i // 2),
            "time/iteration_s": 3.0,
        }
        for i in range(1, 7)
    ]
    _log(tmp_path / "metrics.jsonl", rows, torn=True)  # a kill tore the last line
    assert main([str(tmp_path)]) == 0
    png = (tmp_path / "curves.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    page = (tmp_path / "curves.html").read_text()
    assert "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )
    titles = re.findall(r'class="panel" data-title="([^"]+)"', page)
    assert titles == ["reward", "pass rate", "KL", "loss", "curriculum stage"]
    lines = dict(re.findall(r'data-metric="([^"]+)" data-points="(\d+)"', page))
    assert lines == {
        "charts/reward_mean": "6",
        "charts/pass_rate": "6",
        "losses/approx_kl": "6",
        "losses/policy": "6",
        "charts/stage_mean": "6",
    }
    assert "charts/pass_rate at iteration 4: 0.2<" in page
    assert "curves.png" in capsys.readouterr().out


def test_curves_refuse_what_they_cannot_plot_or_did_not_write(tmp_path, capsys):
    _log(tmp_path / "metrics.jsonl", [{"step": 1, "time/iteration_s": 1.0}])
    assert main([str(tmp_path / "metrics.jsonl")]) == 1
    assert "no known metric" in capsys.readouterr().err
    _log(tmp_path / "metrics.jsonl", [{"step": s, "loss": 1.0 / s} for s in (1, 2, 3)])
    (tmp_path / "curves.html").write_text("<p>my notes</p>")
    assert main([str(tmp_path)]) == 1
    assert "not written by this tool" in capsys.readouterr().err
    assert (tmp_path / "curves.html").read_text() == "<p>my notes</p>"
    assert main([str(tmp_path), "--out", str(tmp_path / "plots")]) == 0
    assert main([str(tmp_path), "--out", str(tmp_path / "plots")]) == 0  # its own: replaced
    assert 'data-metric="loss" data-points="3"' in (tmp_path / "plots" / "curves.html").read_text()


def test_curves_page_in_a_browser(tmp_path):
    from test_html_report import _browser_or_skip

    chromium, sync_playwright = _browser_or_skip()
    _log(tmp_path / "metrics.jsonl", [{"step": s, "loss": 1.0 / s} for s in (1, 2, 3, 4)])
    assert main([str(tmp_path)]) == 0
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page()
        errors, requests = [], []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("request", lambda r: requests.append(r.url))
        page.goto((tmp_path / "curves.html").as_uri())
        assert page.locator("svg.panel").count() == 1
        assert page.locator('g.line[data-metric="loss"] circle').count() == 4
        browser.close()
    assert errors == [] and requests and all(u.startswith("file://") for u in requests)
