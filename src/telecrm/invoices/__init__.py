"""Monthly invoices, their lines, numbering and the payment flow."""
