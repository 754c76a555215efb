"""The headline figure, the fraction of the oracle gap DART recovers: defined in dart.summary
(the run's status carries it too), re-exported for the report's sections."""

from dart.summary import GAP_ARMS as ARMS
from dart.summary import gap_fraction, oracle_gap

__all__ = ["ARMS", "gap_fraction", "oracle_gap"]
