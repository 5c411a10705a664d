"""Why a payment did not go through, in the customer's words and language.

The gateway says why in English (``Payment.failure_reason``, kept for staff screens) and
with a code (``Payment.failure_code``: Stripe's ``decline_code``, else its ``code``).
Customers read a short sentence for the code from the storefront's catalogues
(``translations/``), and a general one for a code without its own. Lost, stolen and
suspected cards read like any other declined card, as Stripe advises: the customer is
told to use another card, never that the bank suspects them.
"""
from __future__ import annotations

from flask_babel import force_locale, lazy_gettext

from app.services.payments import NOT_STARTED

DECLINED = lazy_gettext("Your bank declined the card.")
GENERAL = lazy_gettext("The card's bank did not accept the payment.")

SENTENCES = {
    "card_declined": DECLINED,
    "generic_decline": DECLINED,
    "do_not_honor": DECLINED,
    "lost_card": DECLINED,
    "stolen_card": DECLINED,
    "pickup_card": DECLINED,
    "fraudulent": DECLINED,
    "restricted_card": DECLINED,
    "insufficient_funds": lazy_gettext("The card does not have enough funds."),
    "card_velocity_exceeded": lazy_gettext("The card has reached its spending limit."),
    "expired_card": lazy_gettext("The card has expired."),
    "incorrect_cvc": lazy_gettext("The card's security code (CVC) is not right."),
    "invalid_cvc": lazy_gettext("The card's security code (CVC) is not right."),
    "incorrect_number": lazy_gettext("The card number is not right."),
    "invalid_number": lazy_gettext("The card number is not right."),
    "invalid_expiry_month": lazy_gettext("The card's expiry date is not right."),
    "invalid_expiry_year": lazy_gettext("The card's expiry date is not right."),
    "processing_error": lazy_gettext("The card could not be processed. Please try again in "
                                     "a moment."),
    "authentication_required": lazy_gettext("Your bank asks you to confirm the payment. "
                                            "Please try again and confirm it."),
    # What to do next is said where it is shown (the booking's Pay section).
    "INSTRUMENT_DECLINED": lazy_gettext("PayPal declined the way you chose to pay."),
    NOT_STARTED: lazy_gettext("The payment could not be started. Please try again in a "
                              "moment."),
}


def customer_reason(code: str | None) -> str:
    """The sentence for ``code`` in the current language (the general one when the
    gateway gave no code, or one without a sentence of its own)."""
    return str(SENTENCES.get(code or "", GENERAL))


def customer_reason_in(code: str | None, language: str) -> str:
    """The same, in ``language`` (a message's, outside any request)."""
    with force_locale(language):
        return customer_reason(code)
