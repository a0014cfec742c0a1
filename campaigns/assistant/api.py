"""The assistant's customer-facing API (no key: the signed chat token identifies the customer when
the conversation starts, and the conversation's random id is the capability afterwards).

POST /api/v1/assistant/conversations                      {"token"?: signed chat token, "language"?}
GET  /api/v1/assistant/conversations/<id>/messages        the conversation so far
POST /api/v1/assistant/conversations/<id>/messages        {"text"} -> the reply with its citations
"""
from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.assistant import links, selectors
from campaigns.assistant.models import ChatMessage
from campaigns.assistant.services.conversations import conversation_start, message_reply


class ConversationStartSerializer(serializers.Serializer):
    token = serializers.CharField(required=False, allow_blank=True, default="")
    language = serializers.ChoiceField(choices=["en", "zh"], required=False, default="en")


class MessageInSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=2000)


class ChatMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChatMessage
        fields = ["id", "role", "text", "intent", "method", "citations", "created_at"]


class _Public(APIView):
    # Customer-facing, like the campaign landing page: no API key or session; the signed token and
    # the conversation's unguessable id are the credentials. No partner scope applies.
    permission_classes = [AllowAny]
    authentication_classes: list = []
    required_scopes: dict = {}


class ConversationsView(_Public):
    @extend_schema(request=ConversationStartSerializer, responses={201: dict})
    def post(self, request):
        data = ConversationStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer_id = links.customer_from_chat_token(data.validated_data["token"])
        conversation = conversation_start(customer_id=customer_id, language=data.validated_data["language"])
        return Response({"id": str(conversation.public_id), "signed": customer_id is not None}, status=status.HTTP_201_CREATED)


class ConversationMessagesView(_Public):
    def _conversation(self, public_id):
        found = selectors.conversation_by_public_id(public_id=public_id)
        if found is None:
            raise Http404
        return found

    @extend_schema(responses=ChatMessageSerializer(many=True))
    def get(self, request, public_id):
        conversation = self._conversation(public_id)
        return Response(ChatMessageSerializer(selectors.conversation_messages(conversation_id=conversation.pk), many=True).data)

    @extend_schema(request=MessageInSerializer, responses={201: dict})
    def post(self, request, public_id):
        conversation = self._conversation(public_id)
        data = MessageInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reply = message_reply(conversation_id=conversation.pk, text=data.validated_data["text"])
        body = {"id": reply.message_id, "text": reply.text, "method": reply.method, "intent": reply.intent, "citations": reply.citations,
                "ticket": reply.ticket_id}
        return Response(body, status=status.HTTP_201_CREATED)
