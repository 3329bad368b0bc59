"""Watching over residents and their devices: noticing when a device, or a person, goes quiet or
astray, and keeping personal data only as long as it serves (``retention``).

- Devices (``device_health``): offline when their Last Will or availability topic says so,
  or when nothing came for two heartbeat intervals plus a grace period; online again with
  the next message. An offline device raises nothing for a minute (``[supervision] offline_settle_s``):
  a blip stays quiet, and devices of one area dropping together become one ``area_outage``
  alert instead of one alert each. Low battery follows a threshold with hysteresis.
- Device-health alerts never escalate. Duty staff (role ``staff``) get them in one batched
  SMS at most every 15 minutes (``health_reports``), the area team in a daily digest, and the
  console shows them live. They end by themselves when the device is well again.
- People (``checkin_judge``): a resident with a daily check-in deadline who has not checked
  in that day by then gets a ``missed_checkin`` alert, escalated by its own policy (check-ins
  themselves are recorded as they arrive, ``monitor.watch.checkins``). Leaving a safe zone is
  caught as positions arrive (``monitor.watch.geofence``).
- Housekeeping (``supervision``, the loop that runs all of it): device event ids are forgotten after a week
  (``rules.SEEN_EVENTS_KEPT``), long after any redelivery.

Every fact supervision works from lives in the database (when to look at a device again,
which deadline is next, what staff were told), so a restarted monitor carries on.
"""
