"""Trial-run KPI presets: the service levels buyers usually pilot against."""

from __future__ import annotations

from collections.abc import Callable

from rfpflow.hookspecs import hookimpl
from rfpflow.model import Kpi
from rfpflow.registry import KpiPreset

HOTLINE = KpiPreset(
    "hotline",
    "Customer-service hotline: service level, abandonment, first-contact resolution, CSAT, QA",
    (
        Kpi("service_level", "Calls answered within 20 s", "%", 80.0, "higher", must_have=True, weight=3),
        Kpi("abandonment", "Abandonment rate", "%", 5.0, "lower", must_have=True, weight=2),
        Kpi("fcr", "First-contact resolution", "%", 70.0, "higher", weight=2),
        Kpi("csat", "Customer satisfaction (CSAT)", "%", 85.0, "higher", weight=2),
        Kpi("qa_score", "Quality-assurance score", "%", 85.0, "higher", weight=1),
    ),
)

IT_OPERATIONS = KpiPreset(
    "it-operations",
    "IT operations: availability, P1 response and restore, no severity-1 security incident",
    (
        Kpi("availability", "Service availability", "%", 99.9, "higher", must_have=True, weight=3),
        Kpi("p1_response", "P1 response time", "min", 15.0, "lower", must_have=True, weight=2),
        Kpi("p1_restore", "P1 restore time", "h", 4.0, "lower", weight=2),
        Kpi("sev1_security_incidents", "Severity-1 security incidents", "count", 0.0, "lower",
            must_have=True, weight=1),
    ),
)


@hookimpl(trylast=True)
def rfpflow_register_kpi_presets(register: Callable[[KpiPreset], None]) -> None:
    register(HOTLINE)
    register(IT_OPERATIONS)
