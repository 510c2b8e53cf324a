"""Ingestion: township submissions → archived raw files, canonical tables, outcomes and issues."""
from tasks import stage_task
from tasks.ingest.week import WeekIngest, ingest_week

ingest_task = stage_task(ingest_week, name="ingest")

__all__ = ["WeekIngest", "ingest_week", "ingest_task"]
