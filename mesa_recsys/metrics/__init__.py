"""Metrics as DataCollector reporters, with T-RECS's names.

Every metric is a :class:`Measurement`: a ``name`` (its DataCollector column) and a
``measure(model)`` that calls ``observe(value)``. Register metrics with
``measurements=[...]`` or ``model.add_metrics(...)``; they are measured at construction
(t=0) and after every step. A metric with nothing to measure yet (no interactions or lists
before the first step) records None.

T-RECS's metrics: :class:`InteractionMeasurement`, :class:`MSEMeasurement`,
:class:`RMSEMeasurement`, :class:`InteractionSimilarity`, :class:`RecSimilarity`,
:class:`InteractionSpread` (a real spread; T-RECS's value is
:class:`InteractionSpreadTRECS`), :class:`AverageFeatureScoreRange`,
:class:`DiffusionTreeMeasurement`, :class:`StructuralVirality` (Goel et al.'s definition,
twice T-RECS's value) and :class:`RecallMeasurement`.

For studies: :class:`SimilarUserJaccard` (Chaney et al.), :class:`NDCGAtK`,
:class:`RecallAtK`, :class:`CatalogCoverage`, :class:`ItemPopularityGini`,
:class:`MeanPairwiseDistance`, and :func:`by_group` to split any user-level metric by a
group attribute. ``diagnostics=True`` on :class:`MSEMeasurement` and
:class:`InteractionSimilarity` keeps T-RECS's per-step summary statistics
(:class:`Diagnostics`).
"""

from mesa_recsys.metrics.diagnostics import Diagnostics
from mesa_recsys.metrics.diffusion import (
    DiffusionTreeMeasurement,
    StructuralVirality,
    structural_virality,
)
from mesa_recsys.metrics.diversity import (
    AverageFeatureScoreRange,
    CatalogCoverage,
    ItemPopularityGini,
    MeanPairwiseDistance,
    gini,
    mean_pairwise_distance,
)
from mesa_recsys.metrics.groups import GroupSelector, by_group
from mesa_recsys.metrics.measurement import (
    InteractionMeasurement,
    Measurement,
    MSEMeasurement,
    RMSEMeasurement,
)
from mesa_recsys.metrics.neighbours import PartnerIndex, most_similar_users
from mesa_recsys.metrics.ranking import (
    NDCGAtK,
    RecallAtK,
    RecallMeasurement,
    predicted_top_k,
    top_k_by_score,
)
from mesa_recsys.metrics.similarity import (
    InteractionSimilarity,
    RecSimilarity,
    SimilarUserJaccard,
)
from mesa_recsys.metrics.spread import (
    InteractionSpread,
    InteractionSpreadTRECS,
    effective_number_of_items,
)

__all__ = [
    "AverageFeatureScoreRange",
    "CatalogCoverage",
    "Diagnostics",
    "DiffusionTreeMeasurement",
    "GroupSelector",
    "InteractionMeasurement",
    "InteractionSimilarity",
    "InteractionSpread",
    "InteractionSpreadTRECS",
    "ItemPopularityGini",
    "MSEMeasurement",
    "MeanPairwiseDistance",
    "Measurement",
    "NDCGAtK",
    "PartnerIndex",
    "RMSEMeasurement",
    "RecSimilarity",
    "RecallAtK",
    "RecallMeasurement",
    "SimilarUserJaccard",
    "StructuralVirality",
    "by_group",
    "effective_number_of_items",
    "gini",
    "mean_pairwise_distance",
    "most_similar_users",
    "predicted_top_k",
    "structural_virality",
    "top_k_by_score",
]
