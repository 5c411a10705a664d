"""A worker that forks per job loads the heavy libraries once, before forking: otherwise
every receipt job loaded xhtml2pdf and read its fonts again (about a second each), and
every payment job stripe-python's lazily loaded parts."""
from __future__ import annotations

import sys

from reportlab.pdfbase import pdfmetrics

import jobs.worker as worker_module
from app.gateways import payments as payment_gateways
from app.services import receipts


def test_warming_up_loads_the_pdf_library_and_the_receipt_fonts(app_ctx):
    receipts.warm_up()
    assert "xhtml2pdf.pisa" in sys.modules
    # The fonts the receipt template names are registered with reportlab, process-wide.
    assert any("dejavu" in name.lower() or "bookwellsans" in name.lower()
               for name in pdfmetrics.getRegisteredFontNames())


def test_warming_up_stripe_makes_no_request(app_ctx, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the warm-up called Stripe")

    monkeypatch.setattr("stripe.RequestsClient.request", no_network)
    payment_gateways.warm_up()
    assert "stripe._payment_intent" in sys.modules


def test_only_a_forking_worker_warms_up(app, monkeypatch):
    warmed = []
    monkeypatch.setattr(worker_module, "load_before_forking", lambda: warmed.append(True))
    for worker_class in (worker_module.ForkingWorker, worker_module.InProcessWorker):
        monkeypatch.setattr(worker_class, "work", lambda self, **kwargs: True)

    worker_module.run_worker(app, ["default"], fork=False)
    assert warmed == []
    worker_module.run_worker(app, ["default"], fork=True)
    assert warmed == [True]
