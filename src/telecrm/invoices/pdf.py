"""An invoice as a PDF a customer can file: who bills whom, for which month, the
calls per destination, subtotal, tax and total, and when and how to pay.

The fonts (DejaVu Sans, bundled: a fresh machine has no fonts to rely on) cover
far more than Latin-1, so any company name or address prints as written.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from telecrm.config import Settings
from telecrm.contracts.models import Contract
from telecrm.invoices.arithmetic import billable_minutes
from telecrm.invoices.models import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus
from telecrm.money import format_amount, trim_zeros

FONT_DIR = Path(__file__).parent / "fonts"
FONT = "DejaVu"
GREY = (110, 110, 110)
RULE = (200, 200, 200)
HEADING_FILL = (235, 239, 244)
# fpdf2 subsets the fonts with fontTools, which logs every glyph at INFO.
logging.getLogger("fontTools").setLevel(logging.WARNING)

LEFT_COLUMN = 100  # mm: the issuer and the customer; the invoice facts sit right of it
FACTS_X = 18 + LEFT_COLUMN + 4
TOTALS_X = 112


def _date(value: dt.date) -> str:
    return f"{value.day} {value:%B %Y}"


def _period(invoice: Invoice, settings: Settings) -> str:
    first = invoice.period_start.astimezone(settings.tz).date()
    last = invoice.period_end.astimezone(settings.tz).date() - dt.timedelta(days=1)
    return f"{_date(first)} – {_date(last)}"


def _status_line(invoice: Invoice) -> str | None:
    stamp = {
        InvoiceStatus.SENT: invoice.sent_at,
        InvoiceStatus.PENDING_APPROVAL: invoice.payment_requested_at,
        InvoiceStatus.PAID: invoice.paid_at,
    }.get(invoice.status)
    if invoice.status == InvoiceStatus.DRAFT:
        return "DRAFT: not yet issued"
    if invoice.status == InvoiceStatus.PAID and stamp:
        return f"PAID on {_date(stamp.date())}"
    if invoice.status == InvoiceStatus.PENDING_APPROVAL:
        return "Payment received, awaiting confirmation"
    return None


class _InvoiceDocument(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.footer_text = footer_text
        self.add_font(FONT, "", FONT_DIR / "DejaVuSans.ttf")
        self.add_font(FONT, "B", FONT_DIR / "DejaVuSans-Bold.ttf")
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(auto=True, margin=20)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(FONT, "", 8)
        self.set_text_color(*GREY)
        self.cell(0, 5, f"{self.footer_text} · page {self.page_no()} of {{nb}}", align="C")

    def text_lines(self, lines: Sequence[str], width: float, size: float = 9) -> None:
        self.set_font(FONT, "", size)
        for line in lines:
            if line:
                self.multi_cell(width, 4.6, line, new_x="LMARGIN", new_y="NEXT", align="L")

    def facts(self, x: float, rows: Sequence[tuple[str, str]]) -> None:
        for label, value in rows:
            self.set_x(x)
            self.set_font(FONT, "", 9)
            self.set_text_color(*GREY)
            self.cell(30, 5.5, label)
            self.set_text_color(0, 0, 0)
            self.set_font(FONT, "B", 9)
            self.cell(0, 5.5, value, new_x="LMARGIN", new_y="NEXT")


def _issuer(pdf: _InvoiceDocument, settings: Settings) -> None:
    pdf.set_font(FONT, "B", 15)
    pdf.multi_cell(
        LEFT_COLUMN, 7, settings.invoice_issuer_name, new_x="LMARGIN", new_y="NEXT", align="L"
    )
    pdf.set_text_color(*GREY)
    pdf.text_lines(
        [
            *settings.invoice_issuer_address.splitlines(),
            f"Tax ID: {settings.invoice_issuer_tax_id}" if settings.invoice_issuer_tax_id else "",
            settings.invoice_issuer_email,
            settings.invoice_issuer_phone,
        ],
        LEFT_COLUMN,
    )
    pdf.set_text_color(0, 0, 0)


def _customer(pdf: _InvoiceDocument, contract: Contract) -> None:
    pdf.set_font(FONT, "B", 8)
    pdf.set_text_color(*GREY)
    pdf.cell(LEFT_COLUMN, 5, "BILL TO", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font(FONT, "B", 11)
    pdf.multi_cell(LEFT_COLUMN, 6, contract.company_name, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.text_lines(
        [
            f"Attn. {contract.contact_person}" if contract.contact_person else "",
            *(contract.address or "").splitlines(),
            contract.email or "",
            contract.phone or "",
        ],
        LEFT_COLUMN,
    )


def _month(moment: dt.datetime, settings: Settings) -> str:
    return f"{moment.astimezone(settings.tz):%B %Y}"


def _original_heading(line: InvoiceLine, settings: Settings) -> str:
    original = line.original_invoice
    if original is None:  # the foreign key keeps it: only a broken database gets here
        return "Earlier period"
    return f"{_month(original.period_start, settings)} · after invoice {original.invoice_number}"


def _lines_table(
    pdf: _InvoiceDocument,
    invoice: Invoice,
    lines: Sequence[InvoiceLine],
    settings: Settings,
    subtotal_label: str | None = None,
    month_headings: bool = True,
) -> None:
    """The lines of one section, under a heading per month for calls of earlier
    periods, and with the section's subtotal when the invoice has several."""
    pdf.set_font(FONT, "", 9)
    pdf.set_draw_color(*RULE)
    bold = FontFace(emphasis="BOLD")
    with pdf.table(
        col_widths=(74, 24, 18, 22, 36),
        text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT"),
        borders_layout="HORIZONTAL_LINES",
        headings_style=FontFace(emphasis="BOLD", fill_color=HEADING_FILL),
        line_height=6,
        padding=(0.8, 1.5),
    ) as table:
        table.row(["Destination", "Prefix", "Calls", "Minutes", f"Amount ({invoice.currency})"])
        original_id: int | None = None
        for line in lines:
            if month_headings and line.original_invoice_id not in (None, original_id):
                original_id = line.original_invoice_id
                table.row().cell(_original_heading(line, settings), colspan=5, style=bold)
            table.row(
                [
                    line.description,
                    line.prefix or "",
                    f"{line.call_count:,}",
                    f"{billable_minutes(line.billable_seconds):,}",
                    format_amount(line.amount, invoice.currency),
                ]
            )
        if not lines:
            table.row(["No billed calls this month", "", "0", "0.00", "0"])
        elif subtotal_label:
            row = table.row(style=bold)
            row.cell(subtotal_label, colspan=2)
            for text in (
                f"{sum(line.call_count for line in lines):,}",
                f"{billable_minutes(sum(line.billable_seconds for line in lines)):,}",
                format_amount(sum((line.amount for line in lines), Decimal(0)), invoice.currency),
            ):
                row.cell(text)


def _section_heading(pdf: _InvoiceDocument, title: str, note: str) -> None:
    pdf.set_font(FONT, "B", 11)
    pdf.cell(0, 6, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 8)
    pdf.set_text_color(*GREY)
    pdf.multi_cell(0, 4.6, note, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(2)


def _calls(
    pdf: _InvoiceDocument, invoice: Invoice, lines: Sequence[InvoiceLine], settings: Settings
) -> None:
    """The invoice's own month, then the calls of earlier periods; an adjustment
    has only the latter, all of one month."""
    own = [line for line in lines if line.original_invoice_id is None]
    earlier = [line for line in lines if line.original_invoice_id is not None]
    billed = f"{sum(line.call_count for line in earlier):,} billed calls"
    if invoice.kind == InvoiceKind.ADJUSTMENT:
        original = invoice.original_invoice
        number = original.invoice_number if original else ""
        _section_heading(
            pdf,
            f"Calls of {_period(invoice, settings)} not on invoice {number}",
            f"They reached us after invoice {number} was sent. Times in "
            f"{settings.timezone}; {billed}.",
        )
        _lines_table(pdf, invoice, earlier, settings, month_headings=False)
        return
    several = bool(earlier)
    _section_heading(
        pdf,
        f"Calls of {_period(invoice, settings)}",
        f"Times in {settings.timezone}; {sum(line.call_count for line in own):,} billed calls.",
    )
    _lines_table(
        pdf,
        invoice,
        own,
        settings,
        f"Calls of {_month(invoice.period_start, settings)}" if several else None,
    )
    if several:
        pdf.ln(5)
        _section_heading(
            pdf,
            "Calls of earlier periods",
            "Calls of earlier months that reached us after the invoice of their month "
            f"was sent; {billed}.",
        )
        _lines_table(pdf, invoice, earlier, settings, "Calls of earlier periods")


def _totals(pdf: _InvoiceDocument, invoice: Invoice) -> None:
    rows = [
        ("Subtotal", format_amount(invoice.subtotal, invoice.currency), ""),
        (
            f"Tax ({trim_zeros(invoice.tax_rate)} %)",
            format_amount(invoice.tax, invoice.currency),
            "",
        ),
        (f"Total due ({invoice.currency})", format_amount(invoice.amount, invoice.currency), "B"),
    ]
    pdf.ln(3)
    if pdf.get_y() + 7 * len(rows) > pdf.page_break_trigger:
        pdf.add_page()  # subtotal, tax and total stay together on one page
    for label, value, style in rows:
        pdf.set_x(TOTALS_X)
        pdf.set_font(FONT, style, 11 if style else 10)
        pdf.cell(44, 7, label, border="T" if style else 0)
        pdf.cell(0, 7, value, border="T" if style else 0, align="R", new_x="LMARGIN", new_y="NEXT")


def render_invoice(
    invoice: Invoice, lines: Sequence[InvoiceLine], contract: Contract, settings: Settings
) -> bytes:
    document = "Debit note" if invoice.kind == InvoiceKind.ADJUSTMENT else "Invoice"
    pdf = _InvoiceDocument(f"{document} {invoice.invoice_number} · {settings.invoice_issuer_name}")
    pdf.set_title(f"{document} {invoice.invoice_number}")
    pdf.set_author(settings.invoice_issuer_name)
    pdf.set_creation_date(invoice.updated_at)
    pdf.add_page()

    top = pdf.get_y()
    _issuer(pdf, settings)
    below_issuer = pdf.get_y()
    pdf.set_xy(FACTS_X, top)
    pdf.set_font(FONT, "B", 20)
    adjustment = invoice.kind == InvoiceKind.ADJUSTMENT
    title = "DEBIT NOTE" if adjustment else "INVOICE"
    if invoice.status == InvoiceStatus.DRAFT:
        title = f"DRAFT {title}"
    pdf.cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
    original = invoice.original_invoice
    pdf.facts(
        FACTS_X,
        [
            ("Debit note no." if adjustment else "Invoice no.", invoice.invoice_number),
            *([("Adjusts", original.invoice_number)] if adjustment and original else []),
            ("Date" if adjustment else "Invoice date", _date(invoice.invoice_date)),
            ("Due date", _date(invoice.due_date)),
            ("Period", _month(invoice.period_start, settings)),
            ("Account", invoice.accountcode),
        ],
    )
    if status := _status_line(invoice):
        pdf.set_x(FACTS_X)
        pdf.set_font(FONT, "B", 9)
        pdf.set_text_color(170, 40, 40)
        pdf.cell(0, 6, status, new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    pdf.set_y(max(below_issuer, pdf.get_y()) + 8)

    _customer(pdf, contract)
    pdf.ln(6)
    _calls(pdf, invoice, lines, settings)
    _totals(pdf, invoice)

    pdf.ln(8)
    pdf.set_font(FONT, "B", 9)
    pdf.cell(
        0,
        5,
        f"Please pay {invoice.currency} {format_amount(invoice.amount, invoice.currency)} "
        f"by {_date(invoice.due_date)}, quoting {invoice.invoice_number}.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_text_color(*GREY)
    pdf.text_lines(settings.invoice_payment_instructions.splitlines(), 0)
    pdf.ln(2)
    pdf.text_lines(
        [
            "Line and section amounts are rounded for display. The subtotal is the exact "
            "sum of the costs of all calls, of every section, rounded once; the tax is "
            "computed on the subtotal."
        ],
        0,
        size=7.5,
    )
    return bytes(pdf.output())
