"""The replies to a request for government information (依申请公开), as the annual report counts them
(国办公开办函〔2021〕30号, table 三 “本年度办理结果”), each with the law it rests on and the remedy it must state.

A plain table: the request engine validates a reply against it, the letters state its basis and remedy, and the
annual report counts by `report`. Pure data; imports nothing of ours.

`needs` names the facts a reply of that kind must give the applicant:
- `how`: how or where the information is provided or can be obtained (Art. 36(一)(二), Art. 39(2));
- `reason`: the reasons (说明理由, Art. 36(三)(五), Art. 37), or what was searched and found;
- `ground`: for a partial disclosure, the code of the `withheld.*` reply whose ground the withheld part rests on;
- `other_office`: the organ that holds the information, with its contact details (Art. 36(五));
- `notice_on`: the date of the 补正告知书 or 收费通知 the applicant did not answer;
- `law`: the legal basis, stated by the office where the catalogue has none (`other.other`).
"""

from __future__ import annotations

from dataclasses import dataclass

REGULATION = "《中华人民共和国政府信息公开条例》"
REVIEW_LAW = "《中华人民共和国行政复议法》"
LITIGATION_LAW = "《中华人民共和国行政诉讼法》"
FEE_MEASURES = "《政府信息公开信息处理费管理办法》（国办函〔2020〕109号）"


@dataclass(frozen=True)
class Remedy:
    """How the applicant may challenge a reply (Art. 51)."""

    code: str
    zh: str
    basis: str


# Since the 2023 revision of the 行政复议法 (in force 2024-01-01), a refusal to disclose must first go to
# 行政复议 (Art. 23 para. 1 item (四)); a lawsuit follows within 15 days of the 复议 decision (行政诉讼法 Art. 45).
# Everything else may go to either, in 60 days (行政复议法 Art. 20) or 6 months (行政诉讼法 Art. 46).
EITHER = Remedy("either", "可以申请行政复议，也可以直接提起行政诉讼",
                f"{REGULATION}第五十一条、{REVIEW_LAW}第二十条、{LITIGATION_LAW}第四十六条")
REVIEW_FIRST = Remedy("review_first", "应当先申请行政复议，对行政复议决定不服的再提起行政诉讼",
                      f"{REGULATION}第五十一条、{REVIEW_LAW}第二十条和第二十三条第一款第（四）项、"
                      f"{LITIGATION_LAW}第四十五条")
PARTIAL = Remedy("partial", "对不予公开部分应当先申请行政复议；对其他内容可以申请行政复议，也可以直接提起行政诉讼",
                 f"{REGULATION}第五十一条、{REVIEW_LAW}第二十条和第二十三条第一款第（四）项、"
                 f"{LITIGATION_LAW}第四十五条和第四十六条")
REMEDIES: dict[str, Remedy] = {r.code: r for r in (EITHER, REVIEW_FIRST, PARTIAL)}


@dataclass(frozen=True)
class ReplyType:
    code: str  # "withheld"
    zh: str  # "不予公开"
    row: str  # its row in the annual report's table 三: "（三）"
    note: str = ""  # what the report's row adds to the label


@dataclass(frozen=True)
class Reply:
    """One kind of reply: a row of the annual report, or a variant of the letter counted under its type's row."""

    code: str  # "withheld.state_secret": its type, a dot, its name
    zh: str  # the label: the annual report's words where it has a row of its own
    basis: str  # the articles it rests on ("" where the office states them: `law`)
    needs: frozenset[str]  # the facts the reply must give (see the module's docstring)
    remedy: Remedy
    report: str  # the annual report's row it is counted in: its own code, or its type's where the report has none
    optional: frozenset[str] = frozenset()  # facts it states when it has them

    @property
    def type(self) -> ReplyType:
        return TYPES[self.code.split(".")[0]]

    @property
    def item(self) -> int | None:
        """Its number under its type in the annual report (1 for 属于国家秘密), or None if counted as the type."""
        own = [r.code for r in REPLIES.values() if r.type is self.type and r.report == r.code]
        return own.index(self.code) + 1 if self.code in own else None


TYPES: dict[str, ReplyType] = {t.code: t for t in (
    ReplyType("disclosed", "予以公开", "（一）"),
    ReplyType("partial", "部分公开", "（二）", "（区分处理的，只计这一情形，不计其他情形）"),
    ReplyType("withheld", "不予公开", "（三）"),
    ReplyType("unavailable", "无法提供", "（四）"),
    ReplyType("refused", "不予处理", "（五）"),
    ReplyType("other", "其他处理", "（六）"),
)}


def _art(*parts: str) -> str:
    return REGULATION + "、".join(parts)


_R = frozenset({"reason"})
_14 = _art("第十四条", "第三十六条第（三）项")
_16_1 = _art("第十六条第一款", "第三十六条第（三）项")
_16_2 = _art("第十六条第二款", "第三十六条第（三）项")

REPLIES: dict[str, Reply] = {r.code: r for r in (
    # （一）予以公开: the report has no rows under it; the letter says which of Art. 36(一)(二) applies
    Reply("disclosed.proactive", "已主动公开，告知获取方式和途径", _art("第三十六条第（一）项"), frozenset({"how"}),
          EITHER, "disclosed"),
    Reply("disclosed.provided", "予以提供", _art("第三十六条第（二）项"), frozenset({"how"}), EITHER, "disclosed"),
    # （二）部分公开 (Art. 37): what cannot be disclosed, or is not government information, is separated out
    Reply("partial.withheld", "部分内容不予公开，区分处理", _art("第三十七条"),
          frozenset({"how", "ground", "reason"}), PARTIAL, "partial"),
    Reply("partial.not_government_info", "部分内容不属于政府信息，区分处理", _art("第二条", "第三十七条"),
          frozenset({"how", "reason"}), EITHER, "partial"),
    # （三）不予公开: every one says why (Art. 36(三)) and goes to 行政复议 first
    Reply("withheld.state_secret", "属于国家秘密", _14, _R, REVIEW_FIRST, "withheld.state_secret"),
    Reply("withheld.law_forbids", "其他法律行政法规禁止公开", _14, _R, REVIEW_FIRST, "withheld.law_forbids"),
    Reply("withheld.security_stability", "危及“三安全一稳定”", _14, _R, REVIEW_FIRST,
          "withheld.security_stability"),
    Reply("withheld.third_party", "保护第三方合法权益", _art("第十五条", "第三十六条第（三）项"), _R, REVIEW_FIRST,
          "withheld.third_party"),
    Reply("withheld.internal_affairs", "属于三类内部事务信息", _16_1, _R, REVIEW_FIRST, "withheld.internal_affairs"),
    Reply("withheld.process_info", "属于四类过程性信息", _16_2, _R, REVIEW_FIRST, "withheld.process_info"),
    Reply("withheld.enforcement_file", "属于行政执法案卷", _16_2, _R, REVIEW_FIRST, "withheld.enforcement_file"),
    # 工商、不动产登记资料等 whose obtaining a law or administrative regulation rules specially
    Reply("withheld.inquiry", "属于行政查询事项", _art("第三十六条第（七）项"), _R, REVIEW_FIRST, "withheld.inquiry"),
    # （四）无法提供
    Reply("unavailable.not_held", "本机关不掌握相关政府信息", _art("第三十六条第（四）项"), _R, EITHER,
          "unavailable.not_held"),
    # not this organ's to disclose: counted as not held; names the organ that is, where it can be determined
    Reply("unavailable.not_ours", "不属于本机关负责公开", _art("第三十六条第（五）项"), _R, EITHER,
          "unavailable.not_held", optional=frozenset({"other_office"})),
    Reply("unavailable.needs_making", "没有现成信息需要另行制作", _art("第三十八条"), _R, EITHER,
          "unavailable.needs_making"),
    Reply("unavailable.still_unclear", "补正后申请内容仍不明确", _art("第三十条"), _R, EITHER,
          "unavailable.still_unclear"),
    # （五）不予处理
    Reply("refused.petition", "信访举报投诉类申请", _art("第三十九条第一款"), _R, EITHER, "refused.petition"),
    Reply("refused.repeat", "重复申请", _art("第三十六条第（六）项"), _R, EITHER, "refused.repeat"),
    Reply("refused.publication", "要求提供公开出版物", _art("第三十九条第二款"), frozenset({"how"}), EITHER,
          "refused.publication"),
    Reply("refused.excessive", "无正当理由大量反复申请", _art("第三十五条"), _R, EITHER, "refused.excessive"),
    # not a request to obtain government information (Arts. 2, 27): the Regulation has no item of its own for it
    Reply("refused.confirm", "要求行政机关确认或重新出具已获取信息", _art("第二条", "第二十七条"), _R, EITHER,
          "refused.confirm"),
    # （六）其他处理
    Reply("other.not_corrected", "申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
          _art("第三十条"), frozenset({"notice_on"}), EITHER, "other.not_corrected"),
    Reply("other.fee_unpaid", "申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
          f"{REGULATION}第四十二条、{FEE_MEASURES}", frozenset({"notice_on"}), EITHER, "other.fee_unpaid"),
    Reply("other.other", "其他", "", frozenset({"reason", "law"}), EITHER, "other.other"),
)}

def _report_rows() -> dict[str, str]:
    rows: dict[str, str] = {}
    for t in TYPES.values():
        rows[t.code] = f"{t.row}{t.zh}{t.note}"
        own = [r for r in REPLIES.values() if r.type is t and r.report == r.code]
        rows.update({r.code: f"{n}.{r.zh}" for n, r in enumerate(own, 1)})
    return rows


# The annual report's table 三 in its order: each row's code and its words (a type's row, then its numbered items).
REPORT_ROWS = _report_rows()
