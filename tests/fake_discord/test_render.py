"""The console's rendering of embeds: every line inside the box keeps its border."""

from __future__ import annotations

from fake_discord.render import render_embed


def test_embed_lines_keep_the_border_when_wrapped():
    embed = {
        "author": {"name": "an author " * 12},
        "title": "Models on this server " * 5,
        "description": "one paragraph\n\n" + "a long description line " * 10,
        "fields": [
            {"name": "basic", "value": "built-in · base —\nheld-out loss 1.325 nats/char"},
            {"name": "x" * 90, "value": "z" * 300},
        ],
        "image": {"url": "http://example.com/" + "i" * 100},
        "footer": {"text": "page 1/2 · lower loss = closer to the style " * 4},
    }
    width = 60
    lines = render_embed(embed, width)
    assert lines[0].startswith("+") and lines[-1].startswith("+")
    inside = lines[1:-1]
    assert all(line.startswith("| ") for line in inside), inside
    assert all(len(line) <= width for line in lines), [len(x) for x in lines]
    text = "\n".join(inside)
    assert "held-out loss 1.325" in text and "z" * 40 in text  # wrapped, nothing dropped
    assert sum(line.count("z") for line in inside) == 300


def test_the_timestamp_follows_the_footer_as_discord_shows_it():
    embed = {"footer": {"text": "created"}, "timestamp": "2026-11-28T23:22:59+01:00"}
    assert render_embed(embed)[1] == "| -- created · 2026-11-28 22:22 UTC"
    assert render_embed({"timestamp": "2026-11-28T23:22:59+00:00"})[1] == (
        "| -- 2026-11-28 23:22 UTC"
    )
