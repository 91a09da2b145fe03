"""The default Delphi question set (SPEC §4), copied into every new study and editable until round 1 opens.

To add a question type: add it to ``Question.Type``, teach ``answers.parse_answer`` to validate it,
``aggregation`` to summarise it and ``export`` to write it, then render it in
``templates/delphi/expert/question.html`` (read by ``forms.py``).
"""

from __future__ import annotations

from typing import Any

SCALE5 = [
    {"code": "1", "label_en": "Very low", "label_zh": "很低", "value": 1},
    {"code": "2", "label_en": "Low", "label_zh": "低", "value": 2},
    {"code": "3", "label_en": "Medium", "label_zh": "中", "value": 3},
    {"code": "4", "label_en": "High", "label_zh": "高", "value": 4},
    {"code": "5", "label_en": "Very high", "label_zh": "很高", "value": 5},
]
SCALE4 = [
    {"code": "1", "label_en": "Low", "label_zh": "低", "value": 1},
    {"code": "2", "label_en": "Rather low", "label_zh": "较低", "value": 2},
    {"code": "3", "label_en": "Rather high", "label_zh": "较高", "value": 3},
    {"code": "4", "label_en": "High", "label_zh": "高", "value": 4},
]


def _opts(*pairs: tuple[str, str, str]) -> list[dict[str, Any]]:
    return [{"code": code, "label_en": en, "label_zh": zh} for code, en, zh in pairs]


DEFAULT_QUESTIONS: list[dict[str, Any]] = [
    {
        "key": "expertise",
        "qtype": "single",
        "label_en": "Your expertise on this topic",
        "label_zh": "您对该课题的专业程度",
        "help_en": "High: you do or did R&D on it. Medium: a closely related field. Low: general knowledge.",
        "help_zh": "高：从事或曾从事相关研发；中：相近领域；低：一般了解。",
        "options": _opts(("high", "High", "高"), ("medium", "Medium", "中"), ("low", "Low", "低")),
        "required": True,
        "allow_cant_judge": False,
    },
    {
        "key": "importance",
        "qtype": "scale",
        "label_en": "Importance for the country",
        "label_zh": "对国家的重要程度",
        "options": SCALE5,
        "index": True,
    },
    {
        "key": "importance_why",
        "qtype": "multi",
        "label_en": "Why is it important? (at most 2)",
        "label_zh": "重要的原因（最多选2项）",
        "options": _opts(
            ("science", "Science and knowledge", "科学与知识"),
            ("economy", "Economy and industrial competitiveness", "经济与产业竞争力"),
            ("society", "Society and quality of life", "社会与生活质量"),
            ("environment", "Environment and sustainability", "环境与可持续发展"),
            ("security", "Security and resilience", "安全与韧性"),
        ),
        "max_choices": 2,
    },
    {
        "key": "competitiveness",
        "qtype": "scale",
        "label_en": "The country's current international competitiveness",
        "label_zh": "我国目前的国际竞争力",
        "options": SCALE5,
        "index": True,
    },
    {
        "key": "leader",
        "qtype": "single",
        "label_en": "Leading country or region now",
        "label_zh": "目前领先的国家或地区",
        "options": _opts(
            ("us", "United States", "美国"),
            ("china", "China", "中国"),
            ("eu", "European Union", "欧盟"),
            ("japan", "Japan", "日本"),
            ("korea", "Korea", "韩国"),
            ("other", "Other", "其他"),
            ("none", "None", "无"),
        ),
    },
    {
        "key": "tech_year",
        "qtype": "year",
        "label_en": "Year of scientific and technological realisation",
        "label_zh": "科学技术实现年份",
    },
    {
        "key": "social_year",
        "qtype": "year",
        "label_en": "Year of social implementation (wide use)",
        "label_zh": "社会实现（广泛应用）年份",
    },
    {
        "key": "policy_measures",
        "qtype": "multi",
        "label_en": "Measures most needed for realisation (at most 3)",
        "label_zh": "实现所最需要的措施（最多选3项）",
        "options": _opts(
            ("human_resources", "Human resources", "人才"),
            ("rd_funding", "R&D funding", "研发经费"),
            ("infrastructure_data", "Research infrastructure and data", "科研基础设施与数据"),
            ("domestic_collaboration", "Domestic collaboration", "国内合作"),
            ("international_collaboration", "International collaboration", "国际合作"),
            ("standards", "Standards", "标准"),
            ("other", "Other", "其他"),
        ),
        "max_choices": 3,
    },
    {
        "key": "implementation_barriers",
        "qtype": "multi",
        "label_en": "Challenges for social implementation (at most 3)",
        "label_zh": "社会实现面临的挑战（最多选3项）",
        "options": _opts(
            ("commercialisation", "Commercialisation", "商业化"),
            ("regulation", "Regulation", "法规"),
            ("ethics", "Ethics and ELSI", "伦理与社会问题"),
            ("acceptance", "Social acceptance", "社会接受度"),
            ("standards", "Standards and certification", "标准与认证"),
            ("infrastructure", "Infrastructure", "基础设施"),
            ("procurement", "Public procurement and first use", "政府采购与首购首用"),
            ("other", "Other", "其他"),
        ),
        "max_choices": 3,
    },
    {
        "key": "uncertainty",
        "qtype": "scale",
        "label_en": "R&D character: uncertainty",
        "label_zh": "研发特征：不确定性",
        "options": SCALE4,
    },
    {
        "key": "discontinuity",
        "qtype": "scale",
        "label_en": "R&D character: discontinuity",
        "label_zh": "研发特征：非连续性",
        "options": SCALE4,
    },
    {
        "key": "ethics",
        "qtype": "scale",
        "label_en": "R&D character: ethical issues",
        "label_zh": "研发特征：伦理问题",
        "options": SCALE4,
    },
]
