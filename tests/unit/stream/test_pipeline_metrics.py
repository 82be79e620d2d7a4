"""``stream.health.PipelineMetrics``: what the agents count, on the worker's one registry."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from stream.health import StreamHealth, merge_decision


def test_merge_decisions_are_four_labels() -> None:
    assert merge_decision(is_new=True, changed=True, absorbed=0) == "new"
    assert merge_decision(is_new=False, changed=False, absorbed=0) == "held"
    assert merge_decision(is_new=False, changed=True, absorbed=0) == "joined"
    assert merge_decision(is_new=False, changed=True, absorbed=2) == "twins"


def test_pipeline_counts_render_beside_liveness() -> None:
    health = StreamHealth()
    p = health.pipeline
    p.articles.inc(3)
    p.extraction.observe(0.002)
    p.extracted.labels("current").inc(2)
    p.decisions.labels("joined").inc()
    p.incidents.labels("revised").inc()
    p.alerts.labels("deadly", "incident").inc()
    p.dlq.labels("articles").inc()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(health.render().decode())
        for s in family.samples
    }
    assert samples[("marsad_stream_articles_extracted_total", ())] == 3
    assert samples[("marsad_stream_extraction_seconds_bucket", (("le", "0.0025"),))] == 1
    assert samples[("marsad_stream_extracted_incidents_total", (("kind", "current"),))] == 2
    assert samples[("marsad_stream_merge_decisions_total", (("decision", "joined"),))] == 1
    assert samples[("marsad_stream_incidents_published_total", (("outcome", "revised"),))] == 1
    key = ("marsad_stream_alerts_fired_total", (("kind", "incident"), ("rule", "deadly")))
    assert samples[key] == 1
    assert samples[("marsad_stream_dlq_messages_total", (("topic", "articles"),))] == 1
    assert samples[("marsad_stream_stalled", ())] == 0
