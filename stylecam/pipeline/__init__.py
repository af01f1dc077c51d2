"""The live pipeline: capture thread, newest-frame slot, stylize worker, sinks, statistics."""

from stylecam.pipeline.pipeline import EVENT_KINDS, FramePair, Pipeline, PipelineEvent
from stylecam.pipeline.slot import NewestSlot
from stylecam.pipeline.stats import PipelineStats, StatsCollector
from stylecam.sinks.base import Sink

__all__ = ["EVENT_KINDS", "FramePair", "NewestSlot", "Pipeline", "PipelineEvent", "PipelineStats", "Sink", "StatsCollector"]
