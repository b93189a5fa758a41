"""Metrics as DataCollector reporters, with T-RECS's names."""

from mesa_recsys.metrics.measurement import (
    InteractionMeasurement,
    Measurement,
    MSEMeasurement,
    RMSEMeasurement,
)

__all__ = ["InteractionMeasurement", "MSEMeasurement", "Measurement", "RMSEMeasurement"]
