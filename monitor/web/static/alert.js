// The alert page's and the responder page's map (Leaflet, vendored); a map link is always shown above it.
"use strict";

(function () {
  const box = document.getElementById("map");
  if (!box || typeof L === "undefined") return;
  const lat = Number(box.dataset.lat), lon = Number(box.dataset.lon), accuracy = Number(box.dataset.accuracy);
  L.Icon.Default.imagePath = "/static/leaflet/images/";
  const map = L.map(box).setView([lat, lon], 17);
  const tiles = L.tileLayer(box.dataset.tiles, { maxZoom: 19, attribution: box.dataset.attribution });
  let failures = 0;
  tiles.on("tileerror", function () {
    failures += 1;
    if (failures === 3) {
      const note = document.createElement("p");
      note.className = "map-failed";
      note.textContent = box.dataset.tilesFailed;
      box.after(note);
    }
  });
  tiles.addTo(map);
  L.marker([lat, lon]).addTo(map);
  if (accuracy > 0) L.circle([lat, lon], { radius: accuracy }).addTo(map);
  // The responder page: where the volunteer is, when they share it, and both in view.
  if (box.dataset.ownLat) {
    const own = [Number(box.dataset.ownLat), Number(box.dataset.ownLon)];
    L.circleMarker(own, { radius: 8, color: "#2e7d32" }).addTo(map);
    map.fitBounds([[lat, lon], own], { padding: [30, 30], maxZoom: 17 });
  }
})();
