"""What a buyer's browser meets at the local PayPal stand-in: the approval page and a
minimal double of PayPal's JavaScript SDK (standard library only, nothing loaded from
outside, so the demo and the browser tests work offline).

- :func:`approval_page`: the order's merchant, description and amount, the buyer (a fixed
  "sandbox buyer"), and a form whose **Approve** and **Cancel** buttons are posted back to
  ``/checkoutnow``. Nothing is approved by opening the page, as at PayPal. "Decline the
  capture" approves with a funding source the bank will refuse at capture (a demo of
  ``INSTRUMENT_DECLINED``).
- :func:`opener_page`: the answer to that form when the page was opened by the SDK double
  (in a popup): it tells the opening shop page the outcome with ``postMessage`` and closes.
- :data:`SDK_JS`: ``GET /sdk/js`` — a *minimal compatible double* of PayPal's JS SDK, not
  PayPal's code. It implements only ``paypal.Buttons({createOrder, onApprove, onCancel,
  onError}).render(container)`` (and ``isEligible``): a button that, when clicked, opens a
  popup, calls ``createOrder``, shows this stand-in's approval page in the popup, and then
  calls ``onApprove({orderID, payerID})`` or ``onCancel({orderID})``; a failure calls
  ``onError(error)``. Everything else of PayPal's SDK (funding sources, styles, card
  fields, messages) is absent.
"""
from __future__ import annotations

import json
from decimal import Decimal
from html import escape

BUYER_NAME = "sandbox buyer"
BUYER_EMAIL = "buyer@sandbox.example"
APPROVABLE = ("CREATED", "PAYER_ACTION_REQUIRED", "APPROVED")

_STYLE = """
*, *::before, *::after { box-sizing: border-box; }
body { margin: 0; font-family: system-ui, sans-serif; background: #f2f4f7; color: #1c2430;
       line-height: 1.45; }
.bar { background: #003087; color: #fff; padding: .7rem 1rem; font-weight: 700;
       font-size: 1.15rem; letter-spacing: .01em; }
.bar span { color: #8fc4ff; font-weight: 600; font-size: .85rem; margin-left: .4rem; }
main { max-width: 26rem; margin: 1.2rem auto; padding: 0 .75rem; }
.sheet { background: #fff; border: 1px solid #d5dae1; border-radius: 10px; padding: 1.1rem; }
h1 { font-size: 1.3rem; margin: 0 0 .8rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .35rem 1rem; margin: 0; }
dt { color: #505a68; }
dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
.amount { font-size: 1.25rem; }
.buyer { margin: 1rem 0; padding: .6rem .8rem; background: #f2f6fc; border-radius: 8px; }
.decline { display: flex; gap: .5rem; align-items: flex-start; margin: .9rem 0;
           font-size: .92rem; color: #505a68; }
.decline input { margin-top: .25rem; }
button { display: block; width: 100%; font: inherit; font-weight: 700; padding: .75rem;
         border-radius: 999px; cursor: pointer; margin-top: .6rem; }
.approve { background: #0070e0; border: 1px solid #0070e0; color: #fff; }
.approve:hover { background: #005ac0; }
.cancel { background: #fff; border: 1px solid #8a94a3; color: #1c2430; }
.cancel:hover { background: #f2f4f7; }
:focus-visible { outline: 3px solid #1c2430; outline-offset: 2px; }
.note { color: #505a68; font-size: .85rem; text-align: center; margin-top: 1rem; }
"""


def _page(title: str, body: str, script: str = "") -> str:
    return (f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<link rel="icon" href="data:,">\n'  # no favicon request to answer with a 404
            f"<title>{escape(title)} · PayPal (local sandbox)</title>\n"
            f"<style>{_STYLE}</style>\n</head>\n<body>\n"
            f'<div class="bar">PayPal<span>local sandbox</span></div>\n'
            f"<main>{body}</main>\n{script}</body>\n</html>\n")


def money(amount: Decimal, currency: str) -> str:
    return f"{amount:,.2f} {currency}" if currency != "JPY" else f"{amount:,.0f} {currency}"


def approval_page(order, *, opener_origin: str = "") -> str:
    """The buyer's page for ``order`` (a ledger Order): approve, or cancel."""
    merchant = order.brand_name or "Sandbox merchant"
    description = order.purchase_unit.get("description")
    rows = [("Pay to", merchant)]
    if description:
        rows.append(("For", description))
    details = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    details += (f'<dt>Amount</dt><dd class="amount">'
                f"{escape(money(order.amount, order.currency))}</dd>")
    if order.status not in APPROVABLE:
        body = (f'<div class="sheet"><h1>Nothing to approve</h1><dl>{details}</dl>'
                f"<p>This order is {escape(order.status.lower())}.</p></div>")
        return _page("Nothing to approve", body)
    opener = (f'<input type="hidden" name="opener_origin" value="{escape(opener_origin)}">'
              if opener_origin else "")
    body = f"""<div class="sheet">
<h1>Approve your payment</h1>
<dl>{details}</dl>
<p class="buyer">Signed in as <strong>{BUYER_NAME}</strong> ({BUYER_EMAIL})</p>
<form method="post" action="/checkoutnow">
<input type="hidden" name="token" value="{escape(order.id)}">{opener}
<label class="decline"><input type="checkbox" name="decline" value="1">
<span>Decline the capture: approve with a funding source the bank will refuse when the
shop takes the money (for demos)</span></label>
<button type="submit" name="action" value="approve" class="approve">Approve</button>
<button type="submit" name="action" value="cancel" class="cancel">Cancel and return to
the shop</button>
</form>
</div>
<p class="note">A local PayPal stand-in for tests and demos: no money moves.</p>"""
    return _page("Approve your payment", body)


def not_found_page(order_id: str) -> str:
    body = (f'<div class="sheet"><h1>No such order</h1><p>There is no order '
            f"{escape(order_id or '(none given)')} here.</p></div>")
    return _page("No such order", body)


def opener_page(opener_origin: str, message: dict) -> str:
    """Tells the SDK double in the opening window how it went, then closes the popup."""
    outcome = "approved" if message.get("approved") else "cancelled"
    script = ("<script>\n(function () {\n"
              f"  var message = {json.dumps(message)};\n"
              f"  if (window.opener) {{ window.opener.postMessage(message, "
              f"{json.dumps(opener_origin)}); }}\n"
              "  window.close();\n})();\n</script>\n")
    body = (f'<div class="sheet"><h1>Payment {outcome}</h1>'
            "<p>You can close this window and return to the shop.</p></div>")
    return _page(f"Payment {outcome}", body, script)


# The minimal compatible double of PayPal's JS SDK (see the module's docstring).
SDK_JS = r"""/* A minimal compatible double of PayPal's JavaScript SDK, served by the local PayPal
   stand-in (devservices/paypal_server.py). Not PayPal's code: only paypal.Buttons(...). */
(function () {
  "use strict";
  var script = document.currentScript;
  var origin = new URL(script.src).origin;
  var MESSAGE_SOURCE = "local-paypal";

  function approvalUrl(orderID) {
    return origin + "/checkoutnow?" + new URLSearchParams({
      token: orderID, opener_origin: window.location.origin}).toString();
  }

  // Waits for the popup's answer; a popup closed without one is a cancel.
  function outcomeOf(popup, orderID) {
    return new Promise(function (resolve) {
      var done = false;
      function finish(result) {
        if (done) { return; }
        done = true;
        window.removeEventListener("message", onMessage);
        window.clearInterval(watch);
        resolve(result);
      }
      function onMessage(event) {
        var data = event.data || {};
        if (event.origin === origin && data.source === MESSAGE_SOURCE
            && data.orderID === orderID) {
          finish(data);
        }
      }
      window.addEventListener("message", onMessage);
      var watch = window.setInterval(function () {
        if (popup.closed) {  // let a message sent just before closing arrive first
          window.setTimeout(function () { finish({orderID: orderID, approved: false}); }, 300);
        }
      }, 300);
    });
  }

  function Buttons(options) {
    options = options || {};
    function fail(error) {
      if (options.onError) { options.onError(error); } else { throw error; }
    }
    function pay(button) {
      // Opened during the click, as PayPal does: a popup opened later would be blocked.
      var popup = window.open("about:blank", "local-paypal-approval",
                              "popup,width=480,height=680");
      if (!popup) { fail(new Error("The PayPal window could not be opened.")); return; }
      button.disabled = true;
      Promise.resolve()
        .then(function () { return options.createOrder({}, {}); })
        .then(function (orderID) {
          if (!orderID) { throw new Error("createOrder gave no order id"); }
          popup.location.href = approvalUrl(orderID);
          return outcomeOf(popup, orderID);
        })
        .then(function (outcome) {
          if (outcome.approved) {
            return options.onApprove && options.onApprove(
              {orderID: outcome.orderID, payerID: outcome.payerID}, {});
          }
          return options.onCancel && options.onCancel({orderID: outcome.orderID});
        })
        .catch(function (error) {
          if (!popup.closed) { popup.close(); }
          fail(error);
        })
        .then(function () { button.disabled = false; });
    }
    return {
      isEligible: function () { return true; },
      render: function (container) {
        var host = typeof container === "string" ? document.querySelector(container)
                                                 : container;
        if (!host) { return Promise.reject(new Error("no container to render into")); }
        var button = document.createElement("button");
        button.type = "button";
        button.className = "paypal-button";
        button.textContent = "PayPal";
        button.setAttribute("aria-label", "PayPal");
        var s = button.style;  // set through the DOM: allowed under a strict style-src
        s.display = "block"; s.width = "100%"; s.minHeight = "2.75rem"; s.border = "0";
        s.borderRadius = "6px"; s.background = "#ffc439"; s.color = "#003087";
        s.font = "italic 700 1.2rem system-ui, sans-serif"; s.cursor = "pointer";
        button.addEventListener("click", function () { pay(button); });
        host.appendChild(button);
        return Promise.resolve();
      }
    };
  }

  window.paypal = {Buttons: Buttons, version: "local-double"};
})();
"""
