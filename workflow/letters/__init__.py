"""The letters (告知书) an office sends about a request for government information (依申请公开, 《政府信息公开条例》
Arts. 27-45, 51): 补正告知书, 延期答复告知书, 征求意见书 and its notice to the applicant, 收费通知, 答复书.

    composed = compose(Letter("reply", "平田乡人民政府", "gov-R2026-000003", received, issued, facts))
    stored = to_docx(composed)               # names the applicant only as 申请人, with the request's number
    printed = to_html(composed, addressee)   # the applicant's name and address merged for printing

The wording is in templates an office can replace (workflow/letters/templates.py); what each reply rests on and how
it may be challenged is the catalogue in states/replies.py. No database here: the request engine stores the bytes
(workflow/documents.py).
"""

from workflow.letters.compose import Composed, Letter, compose
from workflow.letters.kinds import FACTS, KINDS
from workflow.letters.render import to_docx, to_html

__all__ = ["FACTS", "KINDS", "Composed", "Letter", "compose", "to_docx", "to_html"]
