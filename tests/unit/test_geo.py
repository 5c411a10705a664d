from __future__ import annotations

import pytest

from app.geo import bounding_box, haversine_km


def test_haversine_known_distance():
    # Berlin Brandenburger Tor to Munich Marienplatz: about 504 km.
    assert haversine_km(52.5163, 13.3777, 48.1374, 11.5755) == pytest.approx(504, abs=3)
    assert haversine_km(10, 10, 10, 10) == 0


@pytest.mark.parametrize("lat, lng, radius", [(52.5, 13.4, 10), (-33.9, 151.2, 250),
                                               (0.0, 179.95, 20), (89.9, 0, 50)])
def test_bounding_box_contains_points_on_the_circle(lat, lng, radius):
    min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, radius)
    for bearing_lat, bearing_lng in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        # walk towards the edge in small steps and check every point within radius is boxed
        for step in range(1, 50):
            plat = lat + bearing_lat * step * 0.05
            plng = lng + bearing_lng * step * 0.05
            if plng > 180:
                plng -= 360
            if abs(plat) > 90 or haversine_km(lat, lng, plat, plng) > radius:
                continue
            assert min_lat <= plat <= max_lat and min_lng <= plng <= max_lng
