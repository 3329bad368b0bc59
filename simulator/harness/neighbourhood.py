"""The people of the test and benchmark deployments, as directory entries and phone numbers.

``simulator.harness.deployment`` writes them into every deployment's directory. Test suites
that need more of them (schedules, family contacts, another area) extend these same entries
(``entry("volunteers", **LI_MING, on_call=...)``) instead of describing the people again.
"""

from __future__ import annotations

from simulator.directory_entries import Entry

RESIDENT_ZH = "r-1"
RESIDENT_EN = "r-2"
TIER1 = ("+8613900000001", "+8613900000002")  # v-1, v-2: the area team
TIER2 = "+8613900000009"  # v-9: the area leader
STAFF = "+8613900000100"  # duty desk
STRANGER = "+8613999999999"

#: the one area, its two residents, the area team, the leader and the duty desk
TIANXIAN: Entry = {"id": "a-1", "name": "Tianxian 3"}
WANG_XIUYING: Entry = {
    "id": RESIDENT_ZH,
    "name": "王秀英",
    "address": "12栋3单元201",
    "area": "a-1",
    "phone": "+8613800000001",
    "language": "zh",
}
MARGARET_CHEN: Entry = {
    "id": RESIDENT_EN,
    "name": "Margaret Chen",
    "address": "8 Riverside Lane, Flat 4",
    "area": "a-1",
    "language": "en",
}
LI_MING: Entry = {"id": "v-1", "name": "Li Ming", "phone": TIER1[0], "areas": ["a-1"], "language": "zh"}
ZHANG_WEI: Entry = {"id": "v-2", "name": "Zhang Wei", "phone": TIER1[1], "areas": ["a-1"], "language": "en"}
CHEN_JING: Entry = {"id": "v-9", "name": "Chen Jing", "phone": TIER2, "areas": ["a-1"], "role": "leader"}
DUTY_DESK: Entry = {"id": "duty-1", "name": "Duty Desk", "phone": STAFF, "role": "staff"}
