"""The few words the Python side of the documents prints, in each language.

Prose lives in the per-language templates; these are the labels that charts,
filters and the sealed-price rule print themselves.
"""

from __future__ import annotations

_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "sealed": "sealed until technical evaluation is complete",
        "withheld": "withheld while prices are sealed",
        "none": "—",
        "pass": "passed", "fail": "failed", "review": "needs review",
        "withdrawn": "withdrawn by the vendor", "excluded": "excluded by the buyer",
        "yes": "yes", "no": "no", "met": "met", "missed": "missed",
        "higher": "higher is better", "lower": "lower is better",
        "draft": "draft", "issued": "issued", "bids-closed": "bids closed", "screening": "screening",
        "evaluation": "evaluation", "trial-run": "trial run", "award-recommended": "award recommended",
        "awarded": "awarded", "cancelled": "cancelled",
        "chart.scores": "Weighted score by dimension (points)",
        "chart.dimensions": "Share of each dimension's weight achieved",
        "chart.kpis": "Trial KPI results against target",
        "chart.target": "target", "chart.met": "target met", "chart.missed": "target missed",
        "chart.weight": "weight", "chart.nodata": "No results to chart.",
        "weighted-sum": "weighted sum of normalised criterion scores", "topsis": "TOPSIS (closeness to the ideal bid)",
        "lpta": "lowest price technically acceptable", "min-max": "min-max", "ratio": "ratio to the best value",
        "scale": "each score's position on its criterion's scale (score ÷ scale maximum × the criterion's points)",
        "vector": "vector (TOPSIS)",
        "max": "share of the best value", "mean": "mean", "median": "median",
        "trimmed-mean": "trimmed mean (highest and lowest score dropped)",
        "lowest-ratio": "lowest price ÷ bid price × points", "linear": "linear from the lowest price to the highest",
        "total_score": "total score", "price": "price", "technical_score": "technical score",
        "submitted_at": "time of submission", "vendor": "vendor id", "trial_score": "trial score",
    },
    "zh": {
        "sealed": "技术评审完成前价格保密",
        "withheld": "价格保密期间不予公开",
        "none": "—",
        "pass": "通过", "fail": "未通过", "review": "待复核",
        "withdrawn": "供应商已撤回投标", "excluded": "采购人已排除该投标",
        "yes": "是", "no": "否", "met": "达标", "missed": "未达标",
        "higher": "越高越好", "lower": "越低越好",
        "draft": "草稿", "issued": "已发布", "bids-closed": "投标截止", "screening": "资格审查",
        "evaluation": "评审", "trial-run": "试运行", "award-recommended": "定标建议",
        "awarded": "已定标", "cancelled": "已取消",
        "chart.scores": "各维度加权得分（分）",
        "chart.dimensions": "各维度得分占该维度权重的比例",
        "chart.kpis": "试运行关键指标实测值与目标值",
        "chart.target": "目标", "chart.met": "达标", "chart.missed": "未达标",
        "chart.weight": "权重", "chart.nodata": "暂无可绘制的结果。",
        "weighted-sum": "综合评分法（加权求和）", "topsis": "TOPSIS 逼近理想解法",
        "lpta": "最低评标价法（技术合格者中价格最低）", "min-max": "极差归一化", "ratio": "比值归一化",
        "scale": "按各评审因素的分值区间折算（得分 ÷ 满分 × 该因素分值）", "vector": "向量归一化（TOPSIS）",
        "max": "最优值比例归一化", "mean": "算术平均值", "median": "中位数",
        "trimmed-mean": "去掉一个最高分和一个最低分后的平均值",
        "lowest-ratio": "低价优先法（评标基准价 ÷ 投标报价 × 价格分值）",
        "linear": "线性插值法（最低价满分、最高价零分）",
        "total_score": "综合得分", "price": "投标报价", "technical_score": "技术得分", "submitted_at": "递交时间",
        "vendor": "供应商编号", "trial_score": "试运行得分",
    },
}

def label_for(lang: str, key: str) -> str:
    table = _LABELS.get(lang, _LABELS["en"])
    return table.get(key, _LABELS["en"].get(key, key))

