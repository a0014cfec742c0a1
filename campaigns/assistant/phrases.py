"""The assistant's fixed replies in English and Chinese (tools, refusals, hand-over)."""
from __future__ import annotations

PHRASES: dict[str, dict[str, str]] = {
    "refusal": {
        "en": "I can't do that. I can only help with your own orders and with our shop's policies.",
        "zh": "抱歉，我不能这样做。我只能帮助您处理您本人的订单以及本店的政策问题。",
    },
    "out_of_scope": {
        "en": "Sorry, I can only answer questions about our shop: orders, delivery, returns, payment and our products.",
        "zh": "抱歉，我只能回答与本店有关的问题：订单、配送、退货、支付和商品。",
    },
    "needs_link": {
        "en": "I can look up orders only when you open this chat from the link in one of our emails. Here is our general information:",
        "zh": "只有通过我们邮件中的链接打开本聊天时，我才能查询订单。以下是一般信息：",
    },
    "order_not_found": {
        "en": "I could not find an order with that number on your account.",
        "zh": "在您的账户中没有找到这个订单号。",
    },
    "order_status": {
        "en": "Order {number} placed on {date}: {status}, {lines} item line(s), total {total} {currency}.",
        "zh": "订单{number}（{date}下单）：{status}，共{lines}种商品，合计{total} {currency}。",
    },
    "no_orders": {"en": "I can't see any orders on your account yet.", "zh": "您的账户中暂时没有订单。"},
    "return_ok": {
        "en": "Order {number} is within our {days}-day return window (until {until}).",
        "zh": "订单{number}仍在{days}天退货期内（截至{until}）。",
    },
    "return_late": {
        "en": "Order {number} is outside our {days}-day return window (it ended on {until}).",
        "zh": "订单{number}已超过{days}天退货期（已于{until}结束）。",
    },
    "return_status": {
        "en": "Order {number} is {status}, so it cannot be returned again.",
        "zh": "订单{number}的状态为{status}，无法再次退货。",
    },
    "recommend": {"en": "You might also like: {items}.", "zh": "您可能还会喜欢：{items}。"},
    "recommend_none": {"en": "I have no suggestions for you yet.", "zh": "暂时没有为您推荐的商品。"},
    "recommend_needs_link": {
        "en": "I can suggest products for you when you open this chat from the link in one of our emails.",
        "zh": "通过我们邮件中的链接打开本聊天后，我可以为您推荐商品。",
    },
    "handover": {
        "en": "I have passed your message to our customer service team (ticket {ticket}). A person will reply by email and in this chat, usually within 1 working day.",
        "zh": "我已将您的消息转交给我们的客服团队（工单{ticket}）。工作人员会通过邮件和本聊天回复您，通常在1个工作日内。",
    },
    "ticket_subject": {"en": "Reply to your question (ticket {ticket})", "zh": "关于您的问题的回复（工单{ticket}）"},
    "welcome": {
        "en": "Hello! Ask me about delivery, returns, payment or our products.",
        "zh": "您好！您可以向我咨询配送、退货、支付或商品的问题。",
    },
}
STATUS_WORDS = {
    "en": {"placed": "placed", "cancelled": "cancelled", "returned": "returned"},
    "zh": {"placed": "已下单", "cancelled": "已取消", "returned": "已退货"},
}


def phrase(key: str, language: str, **values) -> str:
    table = PHRASES[key]
    return table.get(language, table["en"]).format(**values)
