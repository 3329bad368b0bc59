"""What a load run published, what the broker and the monitor confirmed, and how fast."""

from __future__ import annotations

from dataclasses import dataclass, field


def percentile(samples: list[float], fraction: float) -> float:
    """The sample at ``fraction`` of the sorted samples (nearest rank); 0 with no samples."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


@dataclass
class LoadReport:
    elapsed_s: float = 0.0
    heartbeats: int = 0
    locations: int = 0
    sos_sent: int = 0
    #: messages the broker confirmed (PUBACK)
    broker_confirmed: int = 0
    #: presses the monitor confirmed on the device's feedback topic (state "received")
    sos_confirmed: int = 0
    #: publish -> feedback "received", per confirmed press
    latencies_ms: list[float] = field(default_factory=list)
    #: time the generator waited because the broker fell behind
    stalled_s: float = 0.0

    @property
    def published(self) -> int:
        return self.heartbeats + self.locations + self.sos_sent

    @property
    def rate(self) -> float:
        return self.published / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def sos_missing(self) -> int:
        return self.sos_sent - self.sos_confirmed

    def lines(self) -> list[str]:
        lines = [
            f"published {self.published:,} messages in {self.elapsed_s:.1f} s ({self.rate:,.0f}/s): "
            f"{self.heartbeats:,} heartbeats, {self.locations:,} locations, {self.sos_sent:,} SOS",
            f"broker confirmed {self.broker_confirmed:,} of {self.published:,}"
            + (f"; generator waited {self.stalled_s:.1f} s for the broker" if self.stalled_s >= 0.05 else ""),
        ]
        if self.sos_sent:
            samples = self.latencies_ms
            lines.append(
                f"monitor confirmed {self.sos_confirmed:,} of {self.sos_sent:,} SOS ({self.sos_missing:,} missing); "
                f"press -> feedback p50 {percentile(samples, 0.5):.1f} ms, p95 {percentile(samples, 0.95):.1f} ms, "
                f"p99 {percentile(samples, 0.99):.1f} ms, max {max(samples, default=0.0):.1f} ms"
            )
        return lines
