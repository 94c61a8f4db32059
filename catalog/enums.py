"""Controlled vocabularies of the ledger, stored as their string values."""

from enum import StrEnum


class OrgType(StrEnum):
    """What kind of organization this is."""

    AGENCY = "agency"  # 政府部门
    ENTERPRISE = "enterprise"  # 企业
    BROKER = "broker"  # 数据经纪人 / 数据商
    SERVICE_PROVIDER = "service_provider"  # 第三方专业服务机构
    EXCHANGE_OPERATOR = "exchange_operator"  # 数据交易机构


class OpenType(StrEnum):
    """开放属性: whether the public may have the data."""

    UNCONDITIONAL = "unconditional"  # 无条件开放
    CONDITIONAL = "conditional"  # 有条件开放
    CLOSED = "closed"  # 不予开放


class ShareType(StrEnum):
    """共享属性: whether other agencies may have the data."""

    UNCONDITIONAL = "unconditional"  # 无条件共享
    CONDITIONAL = "conditional"  # 有条件共享
    NONE = "none"  # 不予共享


class Grade(StrEnum):
    """Sensitivity grade after GB/T 43697-2024; 一般数据 has four levels."""

    CORE = "core"  # 核心数据
    IMPORTANT = "important"  # 重要数据
    GENERAL_4 = "general_4"  # 一般数据 4级 (敏感个人信息)
    GENERAL_3 = "general_3"  # 一般数据 3级
    GENERAL_2 = "general_2"  # 一般数据 2级
    GENERAL_1 = "general_1"  # 一般数据 1级 (公开)


class UpdateFrequency(StrEnum):
    """更新频率 as declared by the agency."""

    REALTIME = "realtime"  # 实时
    DAILY = "daily"  # 每日
    WEEKLY = "weekly"  # 每周
    MONTHLY = "monthly"  # 每月
    QUARTERLY = "quarterly"  # 每季度
    YEARLY = "yearly"  # 每年
    IRREGULAR = "irregular"  # 不定期


class DatasetStatus(StrEnum):
    """Where a catalog entry stands in its life."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"
