"""The replies to a request, as the national annual-report format counts them (国办公开办函〔2021〕30号, table 三).

Every request closes with one reply of one of these types; a request with mixed outcomes is 部分公开 (the format
counts it there only). The codes are what the chain signs; the labels are the format's rows.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReplyType:
    code: str  # "granted", "withheld.state_secret", ...
    zh: str  # the row of the format
    basis: str  # the article the reply rests on
    reason: bool = False  # a reason must be stated (Art. 37: why the rest is withheld)
    names_office: bool = False  # may name the office that holds the information (Art. 36(五))
    refusal: bool = False  # a refusal to disclose: 行政复议 comes first (行政复议法 2023 Art. 23(一)(四))


GROUPS: dict[str, str] = {
    "granted": "予以公开",
    "partial": "部分公开",
    "withheld": "不予公开",
    "unable": "无法提供",
    "not_processed": "不予处理",
    "other": "其他处理",
}

REPLY_TYPES: tuple[ReplyType, ...] = (
    ReplyType("granted", "予以公开", "《条例》第三十六条第（一）（二）项"),
    ReplyType("partial", "部分公开", "《条例》第三十六条第（三）项、第三十七条", reason=True, refusal=True),
    ReplyType("withheld.state_secret", "属于国家秘密", "《条例》第十四条", refusal=True),
    ReplyType("withheld.prohibited", "其他法律行政法规禁止公开", "《条例》第十四条", refusal=True),
    ReplyType("withheld.security", "危及“三安全一稳定”", "《条例》第十四条", refusal=True),
    ReplyType("withheld.third_party", "保护第三方合法权益", "《条例》第十五条", refusal=True),
    ReplyType("withheld.internal", "属于三类内部事务信息", "《条例》第十六条第一款", refusal=True),
    ReplyType("withheld.process", "属于四类过程性信息", "《条例》第十六条第二款", refusal=True),
    ReplyType("withheld.enforcement", "属于行政执法案卷", "《条例》第十六条第二款", refusal=True),
    ReplyType("withheld.inquiry", "属于行政查询事项", "《条例》第三十六条第（七）项", refusal=True),
    ReplyType("unable.not_held", "本机关不掌握相关政府信息", "《条例》第三十六条第（四）（五）项", names_office=True),
    ReplyType("unable.needs_making", "没有现成信息需要另行制作", "《条例》第三十八条"),
    ReplyType("unable.still_unclear", "补正后申请内容仍不明确", "《条例》第三十条"),
    ReplyType("not_processed.petition", "信访举报投诉类申请", "《条例》第三十九条第一款"),
    ReplyType("not_processed.repeat", "重复申请", "《条例》第三十六条第（六）项"),
    ReplyType("not_processed.publication", "要求提供公开出版物", "《条例》第三十九条第二款"),
    ReplyType("not_processed.mass", "无正当理由大批量、频繁申请", "《条例》第三十五条"),
    ReplyType("not_processed.confirm", "要求行政机关确认或重新出具已获取信息", "《条例》第三十九条第二款"),
    ReplyType("other.no_correction", "申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
              "《条例》第三十条"),
    ReplyType("other.unpaid", "申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
              "《条例》第四十二条"),
    ReplyType("other.other", "其他", "《条例》第三十六条", reason=True),
)
REPLIES: dict[str, ReplyType] = {r.code: r for r in REPLY_TYPES}

# A reply that closes a request the applicant let lapse, by the stop of its clock that lapsed.
LAPSED = {"correction": "other.no_correction", "fee": "other.unpaid"}


def group(code: str) -> str:
    """The format's row group of a reply type: "withheld" for "withheld.state_secret"."""
    return code.split(".", 1)[0]
