"""Customers' receipts and credit notes: the list and the PDFs."""
