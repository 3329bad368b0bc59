"""Where volunteers are: the last position their own phone reported, kept only with their consent.

A volunteer's phone is a directory device with ``volunteer = "<id>"`` (OwnTracks). Its
messages arrive through the same ingest as residents' devices, but they never raise or
change an alert: only the newest position is kept, and only while the volunteer's
``share_location`` consent stands (withdrawn, the stored position is forgotten too).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from devices.base import DeviceEvent, DeviceProfile
from monitor.store.models import Volunteer, VolunteerPhone

#: The kind a volunteer's phone is parsed as (its adapter treats it as a GPS phone).
VOLUNTEER_PHONE_KIND = "gps_phone"
#: A position older than this says little about where the volunteer is now: their home is used instead.
FRESH_FOR = timedelta(hours=2)


def phone_profile(phone: VolunteerPhone) -> DeviceProfile:
    return DeviceProfile(device_id=phone.id, kind=VOLUNTEER_PHONE_KIND, topic=phone.topic, serial=phone.serial)


def record_volunteer_fix(
    phone: VolunteerPhone, volunteer: Volunteer | None, events: Iterable[DeviceEvent], now: datetime
) -> str:
    """Keep the newest position among ``events`` if the volunteer consents; what was done, for the record."""
    if volunteer is None or not volunteer.share_location or not volunteer.active:
        phone.last_lat = phone.last_lon = phone.last_accuracy_m = phone.last_fix_at = None
        return f"volunteer phone {phone.id}: position not kept (no consent to share it)"
    kept = 0
    for event in events:
        if event.position is None:
            continue
        fixed_at = event.position.fixed_at or now
        if phone.last_fix_at is None or fixed_at >= phone.last_fix_at:
            phone.last_lat, phone.last_lon = event.position.lat, event.position.lon
            phone.last_accuracy_m, phone.last_fix_at = event.position.accuracy_m, fixed_at
            kept += 1
    return f"volunteer phone {phone.id} ({phone.volunteer_id}): " + ("position" if kept else "no new position")
