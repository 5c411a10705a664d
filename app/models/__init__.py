"""All models, imported so that SQLAlchemy and Alembic see every table."""
from app.models.api_keys import ProviderApiKey, ApiKeyCall
from app.models.audit import AuditLog
from app.models.availability import AvailabilityRule, ClosedDay, Slot, TimeOff
from app.models.bookings import Attribution, Booking, BookingHistory
from app.models.conversions import ConversionEvent
from app.models.daily_figures import BookingDayDelta, BookingDayTotal, SlotDayDelta, SlotDayTotal
from app.models.catalog import Category, Location, Offering, Variant
from app.models.images import Image
from app.models.events import ConsumedEvent, IdempotencyRecord, OutboxEvent
from app.models.notifications import (
    Notification,
    NotificationTemplate,
    StaffNotificationSetting,
)
from app.models.payments import Payment, PaymentEvent, Refund
from app.models.receipts import Receipt, ReceiptCounter
from app.models.tenancy import Provider, TenantOwned
from app.models.accounts import (
    Account,
    CalendarFeed,
    LinkedIdentity,
    RevokedToken,
    SignInHandoff,
    SignInSession,
)
from app.models.second_factor import RecoveryCode, SecondFactor
from app.models.waitlist import WaitlistEntry
from app.models.resources import (
    Resource,
    ResourceBooking,
    ResourceBusy,
    ResourceHours,
    ResourceShift,
)
from app.models.resource_calendars import ResourceCalendar
from app.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "ProviderApiKey",
    "ApiKeyCall",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "Resource",
    "ResourceBooking",
    "ResourceBusy",
    "ResourceCalendar",
    "ResourceHours",
    "ResourceShift",
    "WaitlistEntry",
    "Account",
    "Attribution",
    "AuditLog",
    "AvailabilityRule",
    "Booking",
    "BookingDayDelta",
    "BookingDayTotal",
    "BookingHistory",
    "Category",
    "ClosedDay",
    "TimeOff",
    "ConsumedEvent",
    "ConversionEvent",
    "IdempotencyRecord",
    "Image",
    "Location",
    "Notification",
    "NotificationTemplate",
    "Offering",
    "OutboxEvent",
    "Payment",
    "PaymentEvent",
    "Provider",
    "SlotDayDelta",
    "SlotDayTotal",
    "Receipt",
    "RecoveryCode",
    "ReceiptCounter",
    "Refund",
    "CalendarFeed",
    "LinkedIdentity",
    "SignInHandoff",
    "RevokedToken",
    "SecondFactor",
    "SignInSession",
    "Slot",
    "StaffNotificationSetting",
    "TenantOwned",
    "Variant",
]
