"""What the shop tells a customer when a rule says no, in the page's language.

Services speak English (``DomainError.message``, also the API's wording); the shop shows
its own translated sentence for every code a customer can meet, and the service's
message for anything else. Field errors likewise: ``field_errors(error)`` gives one
translated message per form field.
"""
from __future__ import annotations

from flask_babel import gettext, lazy_gettext, ngettext

from app.errors import DomainError
from app.services import password_policy
from app.services.accounts import MIN_PASSWORD_LENGTH

MESSAGES = {
    "auth.invalid_credentials": lazy_gettext("Email or password is wrong."),
    "auth.unknown_user": lazy_gettext("This account is inactive or no longer exists."),
    "account.password_too_short": lazy_gettext("The password is too short."),
    "account.password_too_long": lazy_gettext("The password is too long."),
    "account.password_too_weak": lazy_gettext("The password is too easy to guess."),
    "account.reset_link_expired": lazy_gettext("This link has expired. Ask for a new one "
                                               "below."),
    "account.reset_link_invalid": lazy_gettext("This link does not work any more: it was "
                                               "used already, or a newer one was sent. Ask "
                                               "for a new one below."),
    "account.verification_link_expired": lazy_gettext(
        "This link has expired. Sign in and ask for a new one on your account page."),
    "account.verification_link_invalid": lazy_gettext(
        "This link does not work: it was used already, or it is for an address your "
        "account no longer has."),
    "account.email_unverified": lazy_gettext(
        "Verify your email address first: open the link we emailed you."),
    "account.email_taken": lazy_gettext("Please use another email address."),
    "account.invalid_email": lazy_gettext("Please check the email address."),
    "account.invalid": lazy_gettext("Please fill in your first and last name."),
    "booking.slot_full": lazy_gettext(
        "There are not enough places left at that time. Choose fewer places or another "
        "time."),  # where the places asked and left are not known; see slot_taken_message
    "booking.busy": lazy_gettext("That time is being booked by someone else right now. "
                                 "Please try again."),
    "booking.slot_retired": lazy_gettext("That time is no longer offered. Please choose "
                                         "another."),
    "booking.slot_started": lazy_gettext("That time has already started. Please choose a "
                                         "later one."),
    "booking.too_soon": lazy_gettext("That time is too soon to book. Please choose a later "
                                     "one."),
    "booking.too_far_ahead": lazy_gettext("That time cannot be booked yet. Please choose an "
                                          "earlier one."),
    "booking.customer_limit": lazy_gettext(
        "You have as many upcoming bookings of this as one customer may have."),
    "booking.hold_limit": lazy_gettext(
        "You hold as many unpaid places of this as one customer may. Pay for or cancel "
        "your other bookings of it first, or choose fewer places."),
    "booking.resource_busy": lazy_gettext("Nobody is free to do this at that time any more."),
    "resource.not_of_offering": lazy_gettext("That person does not do this service. Please "
                                             "choose again."),
    "booking.unknown_slot": lazy_gettext("That time is not offered for this. Please choose "
                                         "another."),
    "booking.slot_required": lazy_gettext("Please choose a time."),
    "booking.variant_required": lazy_gettext("Please choose an option."),
    "booking.unknown_variant": lazy_gettext("That option is not offered. Please choose "
                                            "another."),
    "booking.out_of_stock": lazy_gettext("Not enough left in stock. Choose fewer."),
    "booking.bad_quantity": lazy_gettext("Choose between 1 and 100."),
    "booking.bad_form": lazy_gettext("Please check the form and try again."),
    "booking.link_expired": lazy_gettext("This link has expired. The newest email about "
                                         "your booking has a fresh one."),
    "booking.link_invalid": lazy_gettext("This link does not work. Please use the link "
                                         "from your email as it is."),
    "booking.cancellation_window_passed": lazy_gettext(
        "Free cancellation has ended; please contact the provider."),
    "booking.change_window_passed": lazy_gettext(
        "Changes are no longer possible; please contact the provider."),
    "booking.not_changeable": lazy_gettext("This booking can no longer be changed."),
    "booking.same_slot": lazy_gettext("That is already the time of your booking."),
    "offering.not_found": lazy_gettext("This is no longer offered."),
    "payment.already_paid": lazy_gettext("This booking is paid already."),
    "payment.not_configured": lazy_gettext("Paying online is not possible here right now."),
    "payment.busy": lazy_gettext("Your payment is being started. Please wait a moment and "
                                 "reload the page."),
    "guest.invalid": lazy_gettext("Please check your details."),
    "guest.not_a_customer_address": lazy_gettext("Please use another email address to book."),
    "booking.not_found": lazy_gettext("We could not find this booking."),
    "booking.not_reschedulable": lazy_gettext("This booking can no longer be moved."),
    "booking.no_time": lazy_gettext("This booking has no time to add to a calendar."),
    "payment.not_payable": lazy_gettext("This booking cannot be paid online any more."),
    "payment.gateway_unavailable": lazy_gettext("The payment service did not answer. Please "
                                                "try again in a moment."),
    "payment.capture_refused": lazy_gettext("PayPal refused to take the money. Please try "
                                            "again with PayPal."),
    "payment.other_method": lazy_gettext("This booking's payment has already been started by "
                                         "card; please finish it that way."),
    "payment.order_mismatch": lazy_gettext("That PayPal payment is not this booking's."),
    "payment.pay_at_venue": lazy_gettext("This booking is paid at the venue; there is nothing "
                                         "to pay online."),
    "free_times.bad_quantity": lazy_gettext("Choose between 1 and 100 places."),
    "free_times.month_out_of_range": lazy_gettext("Please choose a month that is offered."),
    "slot.not_found": lazy_gettext("That time is not offered. Please choose another."),
    "waitlist.places_free": lazy_gettext("That time has places free again: book it instead."),
    "waitlist.already_in_line": lazy_gettext("You are on the waiting list for that time "
                                             "already."),
    "waitlist.time_started": lazy_gettext("That time has already started."),
    "waitlist.more_than_capacity": lazy_gettext("That time has fewer places in all than you "
                                                "asked for. Choose fewer places."),
    "waitlist.bad_quantity": lazy_gettext("Choose between 1 and 100 places."),
    "waitlist.not_found": lazy_gettext("We could not find this waiting list entry."),
    "waitlist.not_in_line": lazy_gettext("You are no longer on this waiting list."),
    "waitlist.no_offer": lazy_gettext("This place is no longer held for you."),
    "waitlist.pay_to_accept": lazy_gettext("Pay for the booking to take the place."),
    "account.link_expired": lazy_gettext("This link has expired. Register again with your "
                                         "address and we send you a new one."),
    "account.link_invalid": lazy_gettext("This link does not work, or your password is set "
                                         "already: please sign in."),
}

# form field → what to do about it (for the fields the shop's own forms have)
FIELD_MESSAGES = {
    "email": lazy_gettext("Enter an email address like name@example.com."),
    "password": lazy_gettext("Use at least %(count)d characters.", count=MIN_PASSWORD_LENGTH),
    "first_name": lazy_gettext("Please fill this in."),
    "last_name": lazy_gettext("Please fill this in."),
    "phone": lazy_gettext("Enter a phone number with its country code, like +49 151 "
                          "23456789."),
    "quantity": lazy_gettext("Choose fewer places."),
}


def shop_message(error: DomainError) -> str:
    """The customer's sentence for a refusal, in the page's language."""
    if error.code == "payment.other_method" and error.errors.get("method") == ["paypal"]:
        return gettext("This booking's payment has already been started with PayPal; please "
                       "finish it there.")
    message = MESSAGES.get(error.code)
    return str(message) if message is not None else error.message


# Refusals of a time whose sentence does not say what to do next.
NEEDS_ANOTHER_TIME = frozenset({"booking.resource_busy", "booking.same_slot"})


def another_time(reason: str) -> str:
    """``reason``, then the advice to choose another time."""
    return gettext("%(reason)s Please choose another time.", reason=reason)


def choose_again_message(error: DomainError, *, quantity: int, places_left: int) -> str:
    """Why the customer chooses a time again, and what to do, each said once: a time
    taken meanwhile says how many places are left when more than one was asked for."""
    if error.code == "booking.slot_full":
        return slot_taken_message(quantity, places_left)
    message = shop_message(error)
    return another_time(message) if error.code in NEEDS_ANOTHER_TIME else message


def slot_taken_message(quantity: int, places_left: int) -> str:
    if quantity > 1 and places_left > 0:
        return ngettext("Only %(num)d place is left at that time. Choose fewer places or "
                        "another time.",
                        "Only %(num)d places are left at that time. Choose fewer places or "
                        "another time.", places_left)
    return gettext("Someone has just booked that time. Please choose another one below.")


# A field whose advice depends on what was wrong with it.
FIELD_MESSAGES_BY_CODE = {
    ("password", "account.password_too_long"): lazy_gettext(
        "Use at most %(count)d characters.", count=password_policy.MAX_LENGTH),
    ("password", "account.password_too_weak"): lazy_gettext(
        "This password is easy to guess. Add another word or two; uncommon words are "
        "better."),
}


def field_errors(error: DomainError) -> dict[str, str]:
    """One message per field the refusal names (translated where the shop knows it)."""
    return {field: str(FIELD_MESSAGES_BY_CODE.get((field, error.code))
                       or FIELD_MESSAGES.get(field) or " ".join(map(str, messages)))
            for field, messages in (error.errors or {}).items()}


def staff_account_message() -> str:
    return gettext("This is a staff account: sign in to the console instead.")


# Signing in with another service; ``%(provider)s`` is Google, Facebook or Apple.
SOCIAL_MESSAGES = {
    "social.cancelled": lazy_gettext("You cancelled signing in with %(provider)s."),
    "social.linked": lazy_gettext(
        "%(provider)s is linked: you can sign in with it from now on."),
    "social.provider_failed": lazy_gettext(
        "Signing in with %(provider)s did not work. Please try again."),
    "social.email_missing": lazy_gettext(
        "%(provider)s did not share an email address. Register with your email address "
        "instead."),
    "social.sign_in_with_password": lazy_gettext(
        "An account with this email address exists already. Sign in with your password "
        "(\"Forgot your password?\" sends a link to choose one), then link %(provider)s on "
        "your account page."),
    "social.identity_taken": lazy_gettext(
        "This %(provider)s sign-in belongs to another account."),
    "social.provider_linked": lazy_gettext(
        "Another %(provider)s sign-in is linked already: unlink it first."),
    "social.signed_out": lazy_gettext("You were signed out meanwhile. Sign in and link again."),
    "auth.account_inactive": lazy_gettext("This account is switched off."),
    "account.email_unverified": lazy_gettext(
        "Verify your email address first: open the link we emailed you."),
    "account.last_sign_in_method": lazy_gettext(
        "%(provider)s is your only way to sign in. Choose a password first (\"Forgot your "
        "password?\" sends a link)."),
    "social.not_linked": lazy_gettext("No such sign-in is linked to your account."),
}


def social_message(code: str, fallback: str, provider: str) -> str:
    """A social sign-in's outcome in the page's language (``fallback`` when unknown)."""
    from app.services.social_sign_in import label

    message = SOCIAL_MESSAGES.get(code)
    return message % {"provider": label(provider)} if message is not None else fallback

