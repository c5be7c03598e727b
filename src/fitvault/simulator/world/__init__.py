"""One seeded synthetic person: where they are, how they sleep and move, what their heart does.

Every API face renders from a World, so all faces agree. Each local date's content comes from an
RNG keyed by (seed, date ordinal, purpose) and never from generation order, so a date looks the
same whatever range the World spans, as long as the zone timeline around it is the same.

A "unit" of date d runs from the bedtime of the night that ends on d's morning to the next
bedtime; the night, d's resting heart rate and d's waking day are rendered together.

The World is a stack of series generators, one module per physiological stream, each a class
that builds on the ones below it (timeline → sleep → plan → activity → heart → …); every series
is a cached property, so asking for one type builds only what it depends on.
"""

from __future__ import annotations

from fitvault.simulator.world.heart import Heart


class World(Heart):
    """A seeded person from local date `start` up to the aware instant `end` ("now")."""


__all__ = ["World"]
