"""The customer's support chat (/support/): server-rendered forms, no JavaScript needed.

A chat opened with ?t=<signed chat token> belongs to that customer; without one it is anonymous.
The conversation's page is addressed by its random public id (the capability to read it); the
customer a conversation belongs to is fixed when it starts and never taken from later input.
"""
from __future__ import annotations

from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from campaigns.assistant import links, selectors
from campaigns.assistant.phrases import phrase
from campaigns.assistant.services.conversations import conversation_start, message_rate, message_reply
from mlcore.ml.feedback.language import detect_language

LABELS = {
    "en": {"title": "Customer service", "send": "Send", "placeholder": "Type your question", "signed": "Signed in from your email link",
           "anonymous": "General questions (open the chat from one of our emails to ask about your orders)", "sources": "Sources",
           "helpful": "Helpful", "unhelpful": "Not helpful", "you": "You", "assistant": "Assistant", "staff": "Our team", "new": "New conversation"},
    "zh": {"title": "客户服务", "send": "发送", "placeholder": "请输入您的问题", "signed": "已通过您的邮件链接登录",
           "anonymous": "一般问题（通过我们的邮件打开聊天即可查询您的订单）", "sources": "来源",
           "helpful": "有帮助", "unhelpful": "没帮助", "you": "您", "assistant": "助手", "staff": "客服团队", "new": "新对话"},
}


def _language(request, text: str = "") -> str:
    if text:
        return detect_language(text)
    chosen = request.GET.get("lang") or request.POST.get("lang") or ""
    if chosen in LABELS:
        return chosen
    return "zh" if request.headers.get("Accept-Language", "").lower().startswith("zh") else "en"


@require_http_methods(["GET", "POST"])
def chat(request):
    token = request.GET.get("t") or request.POST.get("t") or ""
    customer_id = links.customer_from_chat_token(token)
    if request.method == "POST" and request.POST.get("text", "").strip():
        text = request.POST["text"]
        conversation = conversation_start(customer_id=customer_id, language=_language(request, text))
        message_reply(conversation_id=conversation.pk, text=text)
        return redirect("support:conversation", public_id=conversation.public_id)
    language = _language(request)
    context = {"labels": LABELS[language], "language": language, "token": token if customer_id else "", "signed": customer_id is not None,
               "messages": [], "welcome": phrase("welcome", language), "action": request.path}
    return render(request, "support/chat.html", context)


@require_http_methods(["GET", "POST"])
def conversation(request, public_id):
    found = selectors.conversation_by_public_id(public_id=public_id)
    if found is None:
        raise Http404("No such conversation")
    if request.method == "POST" and request.POST.get("text", "").strip():
        message_reply(conversation_id=found.pk, text=request.POST["text"])
        return redirect("support:conversation", public_id=found.public_id)
    language = request.GET.get("lang") if request.GET.get("lang") in LABELS else found.language
    context = {
        "labels": LABELS[language], "language": language, "signed": found.customer_id is not None, "conversation": found,
        "messages": list(selectors.conversation_messages(conversation_id=found.pk)), "welcome": phrase("welcome", language), "action": request.path,
    }
    return render(request, "support/chat.html", context)


@require_POST
def rate(request, public_id, message_id: int):
    found = selectors.conversation_by_public_id(public_id=public_id)
    if found is None:
        raise Http404("No such conversation")
    message_rate(message_id=message_id, conversation_id=found.pk, rating=1 if request.POST.get("rating") == "up" else -1)
    return redirect("support:conversation", public_id=found.public_id)
