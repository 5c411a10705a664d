"""The demo's bookings: two weeks behind today and one ahead, in each provider's zone.

Every booking goes through the services a real one does: placed on a generated slot
(or a variant's stock) with the storefront's campaign attribution, then confirmed, paid
at the venue, completed, marked no-show, cancelled or refunded by the provider's staff
user, so payments, refunds, receipts, messages and the outbox's events exist as they
would. Times already past are placed as they were then (``place_booking``'s ``now``);
payments and refunds are recorded at load time (their services take no clock).

Which times get how many bookings, by whom and from which campaign is drawn from a random
generator seeded with the provider and the local day, so a day's bookings are the same
whenever they are made. How they end follows a fixed mix (``PAST_MIX``, ``COMING_MIX``,
``ORDER_MIX``) taken in turn, so that every state is there in any run of a few weeks. A
day that has demo bookings already is left alone: a second run the same day adds nothing,
and a run on a later day adds only the days that came into the window.
"""
from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.errors import Conflict
from app.extensions import db
from app.models import AvailabilityRule, Booking, Offering, Provider, Slot, Variant
from app.models.catalog import SERVICE
from app.models.payments import Payment
from app.services import attribution_capture, bookings, guest_checkout, payments, refunds
from app.services.demo_catalog import HISTORY_DAYS, DemoProvider
from app.services.scopes import Actor, Scope

AHEAD_DAYS = 7

# People who book: guests of the storefront (accounts without a password).
DEMO_CUSTOMERS = (
    ("Mia", "Schneider"), ("Jonas", "Weber"), ("Aylin", "Demir"), ("Noah", "Fischer"),
    ("Emma", "Larsen"), ("Luca", "Romano"), ("Sofia", "Nowak"), ("Ben", "Okafor"),
    ("Hannah", "Keller"), ("Mateo", "García"), ("Olivia", "Brooks"), ("Daniel", "Kim"),
    ("Grace", "Thompson"), ("Samir", "Haddad"), ("Chloe", "Martin"), ("Ethan", "Walsh"),
    ("Amara", "Nwosu"), ("Leo", "Bianchi"), ("Freya", "Lindqvist"), ("Ravi", "Menon"),
)
CUSTOMER_DOMAIN = "guests.bookwell.example"

# Where storefront visitors came from: (share, landing query, referrer). No query: direct.
CAMPAIGNS = (
    (0.30, {"utm_source": "tiktok", "utm_medium": "paid_social",
            "utm_campaign": "winter_reset"}, "https://www.tiktok.com/"),
    (0.25, {"utm_source": "newsletter", "utm_medium": "email",
            "utm_campaign": "december_letter"}, None),
    (0.10, {"utm_source": "instagram", "utm_medium": "social",
            "utm_campaign": "stories"}, "https://www.instagram.com/"),
    (0.35, None, None),
)
USER_AGENT = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Mobile/15E148"

# How bookings paid at the venue end, taken in turn: those whose time is over...
PAST_MIX = ("completed", "completed", "no_show", "completed", "cancelled", "completed",
            "partly_refunded", "completed", "refunded", "completed", "completed", "no_show",
            "completed", "completed", "cancelled", "completed", "partly_refunded",
            "completed")
# ...those still to come (or under way: those are confirmed)...
COMING_MIX = ("confirmed", "pending", "paid", "confirmed", "cancelled", "confirmed",
              "refunded", "pending", "confirmed", "paid", "confirmed", "confirmed")
# ...and click-and-collect orders ("waiting": not collected yet, if placed lately).
ORDER_MIX = ("collected", "collected", "waiting", "collected", "cancelled", "collected",
             "refunded", "collected", "waiting", "collected")


@dataclass
class Desk:
    """The provider as its staff user works it: its scope, zone and the staff's actor, and
    how many bookings of each mix it has settled in this run."""

    provider_id: int
    slug: str
    zone: ZoneInfo
    staff_id: int
    rules: dict = field(default_factory=dict)  # offering id → its weekly rules
    settled: dict = field(default_factory=dict)

    def next_outcome(self, mix: tuple[str, ...]) -> str:
        turn = self.settled.get(mix, 0)
        self.settled[mix] = turn + 1
        return mix[turn % len(mix)]

    @property
    def scope(self) -> Scope:
        return Scope.of_provider(self.provider_id)

    def actor(self, reason: str = "") -> Actor:
        return Actor(self.staff_id, reason)


def _address(first: str, last: str) -> str:
    """``mateo.garcia@…``: the name without accents, as most mail systems would take it."""
    local = unicodedata.normalize("NFKD", f"{first}.{last}").encode("ascii", "ignore")
    return f"{local.decode().lower()}@{CUSTOMER_DOMAIN}"


def ensure_customers() -> list[tuple[int, bool]]:
    """The demo's guest customers: (account id, placed as guest)."""
    return [(guest_checkout.guest_customer_id(guest_checkout.checked_guest(
        email=_address(first, last), first_name=first,
        last_name=last)), True) for first, last in DEMO_CUSTOMERS]


def load_bookings(provider: Provider, spec: DemoProvider, staff_id: int,
                  customers: list[tuple[int, bool]], now: datetime) -> int:
    """The provider's bookings on each day of the window that has none yet; returns how
    many were placed."""
    desk = Desk(provider.id, spec.slug, ZoneInfo(provider.timezone), staff_id)
    for rule in db.session.scalars(select(AvailabilityRule).where(
            AvailabilityRule.provider_id == provider.id)):
        desk.rules.setdefault(rule.offering_id, []).append(rule)
    today = now.astimezone(desk.zone).date()
    done = _days_with_bookings(desk, [cid for cid, _ in customers])
    placed = 0
    for offset in range(-HISTORY_DAYS, AHEAD_DAYS + 1):
        day = today + timedelta(days=offset)
        if day in done:
            continue
        rng = random.Random(f"{spec.slug}/{day.isoformat()}")
        placed += _book_times(desk, spec, day, rng, customers, now)
        if day < today:  # (today's would depend on the hour of the run)
            placed += _order_products(desk, spec, day, rng, customers, now)
    bookings.expire_holds(scope=desk.scope, now=now)  # holds of past days ran out long ago
    return placed


def _days_with_bookings(desk: Desk, customer_ids: list[int]) -> set[date]:
    rows = db.session.execute(select(Booking.starts_at, Booking.created_at).where(
        Booking.provider_id == desk.provider_id, Booking.customer_id.in_(customer_ids)))
    return {(starts_at or created_at).astimezone(desk.zone).date()
            for starts_at, created_at in rows}


def _local_bounds(desk: Desk, day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), desk.zone)
    return start, datetime.combine(day + timedelta(days=1), time(), desk.zone)


def _book_times(desk: Desk, spec: DemoProvider, day: date, rng: random.Random, customers,
                now: datetime) -> int:
    start, end = _local_bounds(desk, day)
    slots = db.session.execute(
        select(Slot.id, Slot.starts_at, Slot.ends_at, Slot.capacity, Offering.id.label("oid"),
               Offering.name, Offering.pay_at_venue)
        .join(Offering, Offering.id == Slot.offering_id)
        .where(Slot.provider_id == desk.provider_id, Slot.retired_at.is_(None),
               Slot.starts_at >= start, Slot.starts_at < end)
        .order_by(Slot.starts_at, Offering.id)).all()
    demand = {service.name: service.demand for service in spec.services}
    placed = 0
    for slot in slots:
        if not _on_weekly_hours(desk, slot):
            continue  # a time added by hand: the demo books only its opening hours
        wanted = min(rng.choice(demand.get(slot.name, (0,))), slot.capacity)
        left = slot.capacity
        for customer_id, as_guest in rng.sample(customers, wanted):
            quantity = min(left, rng.choice((1, 1, 2, 3))) if slot.capacity > 3 else 1
            if quantity < 1:
                break
            if _book_slot(desk, slot, customer_id, as_guest, quantity, rng, now):
                placed += 1
                left -= quantity
    return placed


def _on_weekly_hours(desk: Desk, slot) -> bool:
    """Whether a rule of the offering asks for this time (its start on the rule's grid)."""
    start, end = slot.starts_at.astimezone(desk.zone), slot.ends_at.astimezone(desk.zone)
    minute = start.hour * 60 + start.minute
    for rule in desk.rules.get(slot.oid, ()):
        first = rule.start_time.hour * 60 + rule.start_time.minute
        if rule.weekday == start.weekday() and minute >= first \
                and (minute - first) % rule.slot_minutes == 0 \
                and end.date() == start.date() and end.time() <= rule.end_time:
            return True
    return False


def _attribution(rng: random.Random, slug: str) -> dict | None:
    draw, share_so_far = rng.random(), 0.0
    for share, query, referrer in CAMPAIGNS:
        share_so_far += share
        if draw < share_so_far:
            break
    if query is None:
        return None
    query = dict(query)
    cookies = {}
    if query["utm_source"] == "tiktok":  # TikTok's click id and its pixel's cookie
        query["ttclid"] = f"E.C.P.{rng.getrandbits(64):016x}"
        cookies[attribution_capture.TTP_COOKIE] = f"{rng.getrandbits(80):020x}"
    landing = f"https://bookwell.example/p/{slug}?" + "&".join(
        f"{name}={value}" for name, value in query.items())
    touch = attribution_capture.first_touch(None, query, landing, referrer)
    return attribution_capture.booking_attribution(
        touch, cookies, attribution_capture.GRANTED, f"203.0.113.{rng.randint(2, 250)}",
        USER_AGENT)


def _book_slot(desk: Desk, slot, customer_id: int, as_guest: bool, quantity: int,
               rng: random.Random, now: datetime) -> bool:
    ended = slot.ends_at <= now
    if slot.pay_at_venue:
        placed_at = min(now, slot.starts_at) - timedelta(hours=rng.randint(2, 24 * 6))
    else:  # paid online: the hold of a time still to come is a few minutes old
        placed_at = (slot.starts_at - timedelta(hours=rng.randint(2, 72))) if ended \
            else now - timedelta(minutes=rng.randint(1, 8))
    try:
        booking = bookings.place_booking(
            customer_id=customer_id, offering_id=slot.oid, slot_id=slot.id,
            quantity=quantity, attribution=_attribution(rng, desk.slug), now=placed_at,
            as_guest=as_guest)
    except Conflict:  # every barber busy then: that customer went elsewhere
        return False
    if not slot.pay_at_venue:
        return True  # its hold runs out (expire_holds), or it is a hold of just now
    if ended:
        _settle(desk, booking.reference, desk.next_outcome(PAST_MIX))
    elif slot.starts_at <= now:
        _settle(desk, booking.reference, "confirmed")  # under way
    else:
        _settle(desk, booking.reference, desk.next_outcome(COMING_MIX))
    return True


def _settle(desk: Desk, reference: str, outcome: str) -> None:
    """Bring a booking paid at the venue to ``outcome`` as staff would record it."""
    def staff(verb, reason: str = "") -> None:
        verb(reference, actor=desk.actor(reason), scope=desk.scope)

    if outcome in ("completed", "partly_refunded"):
        _paid(desk, reference)
        staff(bookings.complete_booking)
        if outcome == "partly_refunded":
            _refund(desk, reference, share=0.2, reason="Started 15 minutes late")
    elif outcome == "no_show":
        staff(bookings.confirm_booking)
        staff(bookings.mark_no_show)
    elif outcome == "cancelled":
        staff(bookings.cancel_booking, "the customer called")
    elif outcome == "refunded":
        _paid(desk, reference)
        _refund(desk, reference, share=None, reason="Could not come: refunded in full")
    elif outcome == "confirmed":
        staff(bookings.confirm_booking)
    elif outcome == "paid":
        _paid(desk, reference)  # paid ahead at the desk: confirmed by its payment
    # "pending": waiting for staff to confirm it


def _paid(desk: Desk, reference: str) -> None:
    method = "card terminal" if sum(map(ord, reference)) % 3 else "cash"
    payments.mark_paid(reference, actor_id=desk.staff_id, scope=desk.scope, method=method)


def _refund(desk: Desk, reference: str, *, share: float | None, reason: str) -> None:
    payment_id, amount = db.session.execute(
        select(Payment.id, Payment.received_minor).join(Booking)
        .where(Booking.reference == reference)).one()
    refunds.request_refund(payment_id, amount_minor=None if share is None else max(
        1, int(amount * share)), reason=reason, actor_id=desk.staff_id, scope=desk.scope)


def _order_products(desk: Desk, spec: DemoProvider, day: date, rng: random.Random,
                    customers, now: datetime) -> int:
    """Click-and-collect orders placed in the shop's hours that (past) day."""
    sold = [product.name for product in spec.products if product.sells]
    if not sold:
        return 0
    variants = db.session.execute(
        select(Variant.id, Offering.id.label("oid"), Variant.stock)
        .join(Offering, Offering.id == Variant.offering_id)
        .where(Offering.provider_id == desk.provider_id, Offering.name.in_(sold),
               Offering.kind != SERVICE)
        .order_by(Offering.id, Variant.id)).all()
    placed = 0
    for _ in range(rng.choice(spec.orders_per_day)):
        variant = rng.choice(variants)
        at = datetime.combine(day, time(9), desk.zone) + timedelta(minutes=rng.randint(0, 500))
        customer_id, as_guest = rng.choice(customers)
        quantity, attribution = rng.choice((1, 1, 2)), _attribution(rng, desk.slug)
        try:
            booking = bookings.place_booking(
                customer_id=customer_id, offering_id=variant.oid, variant_id=variant.id,
                quantity=quantity, attribution=attribution, now=at, as_guest=as_guest)
        except Conflict:  # sold out
            continue
        placed += 1
        outcome = desk.next_outcome(ORDER_MIX)
        if outcome == "waiting" and day < now.astimezone(desk.zone).date() - timedelta(days=2):
            outcome = "collected"  # an order of last week was collected long ago
        reference = booking.reference
        if outcome == "cancelled":
            bookings.cancel_booking(reference, actor=desk.actor("never collected"),
                                    scope=desk.scope)
        elif outcome == "refunded":
            _paid(desk, reference)
            _refund(desk, reference, share=None, reason="Bag arrived torn")
        elif outcome == "collected":
            _paid(desk, reference)
            bookings.complete_booking(reference, actor=desk.actor("collected"),
                                      scope=desk.scope)
        # "waiting": to be collected (and paid)
    return placed


__all__ = ["AHEAD_DAYS", "DEMO_CUSTOMERS", "ensure_customers", "load_bookings"]
