"""The webhook receiver: POST /hooks/<provider>/<key>/ (receiver.py does the work)."""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .receiver import receive


@csrf_exempt  # a provider's server posts here, authenticated by HTTP basic auth, not a session
@require_POST
def receive_webhook(request, provider: str, key: str):
    answer = receive(
        provider=provider,
        url_key=key,
        authorization=request.META.get("HTTP_AUTHORIZATION", ""),
        content_length=request.META.get("CONTENT_LENGTH"),
        read=request.read,
    )
    response = JsonResponse({"ok": answer.status == 200, "message": answer.message}, status=answer.status)
    if answer.status == 401:
        response["WWW-Authenticate"] = 'Basic realm="webhooks"'
    return response
